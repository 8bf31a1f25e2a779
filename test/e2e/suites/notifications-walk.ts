import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  decryptPush,
  PushReceiver,
  verifyVapid,
} from '../../../packages/services/notifications/test/support/push-receiver.js';
import { openSocket } from '../../../packages/services/notifications/test/support/socket-client.js';
import {
  apiCaller,
  E2E_PASSWORD,
  pollUntil,
  readyChecksOf,
  type SignedUp,
  signUp as signUpAt,
} from '../harness.js';
import { deploySuite, type E2eShape } from './shape.js';

interface Notification {
  id: string;
  type: string;
  target: { type: string; id: string };
  actors: { id: string; username: string | null }[];
  actorCount: number;
  read: boolean;
}

/**
 * The notification service as a client meets it, on a started server: real
 * accounts act through social, content and messaging; the recipient lists its
 * notifications, holds a socket and a Web Push subscription to a push service
 * on 127.0.0.1 whose payloads the test decrypts. `postgres`: the shape runs on
 * a database of its own (created and dropped here).
 */
export function defineNotificationsWalk(shape: E2eShape & { postgres?: boolean }): void {
  describe(`notifications over HTTP (${shape.name})`, () => {
    const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
    const receiver = new PushReceiver();
    const suite = deploySuite(shape, {
      name: 'notifications',
      freshDatabase: shape.postgres ?? false,
      env: { WEB_PUSH_INSECURE_ENDPOINTS: 'true' },
      before: () => receiver.start(),
      after: () => receiver.close(),
    });

    // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field
    const call = apiCaller<any>((p, m) => suite.nova.urlFor(p, m));
    const signUp = (name: string): Promise<SignedUp> =>
      signUpAt((p, method) => suite.nova.urlFor(p, method), `${name}${run}`);
    const inbox = async (who: SignedUp): Promise<Notification[]> => {
      const answer = await call('GET', '/notifications?limit=50', who.token);
      expect(answer.status).toBe(200);
      return answer.body.items;
    };
    const ofType = (items: Notification[], type: string) => items.filter((n) => n.type === type);

    it('runs on the shape’s engines', async () => {
      expect((await fetch(suite.nova.urlFor('/health/ready'))).status).toBe(200);
      const checks = await readyChecksOf(suite.nova);
      for (const name of ['db-notifications', ...(shape.readyChecks ?? [])])
        expect(checks[name]).toMatchObject({ status: 'ok' });
    });

    it('notifies each kind once, grouped, with the right actors — on the list, the socket and Web Push', async () => {
      const [alice, bob, carol, dave] = await Promise.all(['alice', 'bob', 'carol', 'dave'].map(signUp));
      if (!alice || !bob || !carol || !dave) throw new Error('sign-up');
      const vapid = (await call('GET', '/notifications/vapid-key', alice.token)).body.publicKey as string;
      const browser = receiver.browser(`alice-${run}`);
      expect(
        (await call('POST', '/notifications/push-subscriptions', alice.token, browser.subscription)).status,
      ).toBe(201);
      const socket = await openSocket(suite.nova.urlFor(''), alice.token);
      try {
        const post = (await call('POST', '/posts', alice.token, { text: 'hello world' })).body.id as string;
        for (const liker of [bob, carol, dave]) {
          expect((await call('POST', `/posts/${post}/like`, liker.token)).status).toBe(204);
        }
        expect((await call('POST', `/posts/${post}/like`, alice.token)).status).toBe(204); // her own
        expect((await call('POST', `/posts/${post}/comments`, bob.token, { text: 'nice' })).status).toBe(201);
        expect((await call('POST', `/users/${alice.id}/follow`, carol.token)).status).toBe(200);
        expect((await call('POST', '/posts', dave.token, { text: `look @${alice.username}` })).status).toBe(
          201,
        );
        // A message from bob to alice's one device: notified without any of its content.
        for (const [who, device] of [
          [alice, 'a1'],
          [bob, 'b1'],
        ] as const) {
          const keys = await call('PUT', '/keys', who.token, {
            deviceId: device,
            identityKey: Buffer.from(`identity-${device}`).toString('base64'),
            signedPreKey: Buffer.from(`signed-${device}`).toString('base64'),
            oneTimePreKeys: [],
          });
          expect(keys.status).toBe(204);
        }
        const conversation = await call('POST', '/conversations', bob.token, { memberIds: [alice.id] });
        expect(conversation.status).toBe(201);
        const sent = await call('POST', `/conversations/${conversation.body.id}/messages`, bob.token, {
          clientMessageId: randomUUID(),
          senderDeviceId: 'b1',
          envelopes: [{ deviceId: 'a1', ciphertext: Buffer.from('secret words').toString('base64') }],
        });
        expect(sent.status).toBe(201);
        const items = await pollUntil(
          () => inbox(alice),
          (list) =>
            ['like', 'comment', 'follow', 'mention', 'message'].every((t) => ofType(list, t).length === 1),
        );
        expect(items).toHaveLength(5);
        const like = ofType(items, 'like')[0];
        expect(like).toMatchObject({ target: { type: 'post', id: post }, actorCount: 3 });
        expect(like?.actors.map((a) => a.username)).toEqual([dave.username, carol.username, bob.username]);
        expect(ofType(items, 'comment')[0]?.actors.map((a) => a.id)).toEqual([bob.id]);
        expect(ofType(items, 'follow')[0]).toMatchObject({
          target: { type: 'user', id: alice.id },
          actorCount: 1,
        });
        expect(ofType(items, 'mention')[0]?.actors.map((a) => a.id)).toEqual([dave.id]);
        const message = ofType(items, 'message')[0];
        expect(message).toMatchObject({ target: { type: 'conversation', id: conversation.body.id } });
        expect(JSON.stringify(message)).not.toContain(Buffer.from('secret words').toString('base64'));
        expect((await call('GET', '/notifications/unread-count', alice.token)).body.count).toBe(5);
        // The socket saw the groups as they formed.
        const likeFrame = await socket.waitFor(
          (f) =>
            f.channel === 'notification' &&
            (f.data as Notification).type === 'like' &&
            (f.data as Notification).actorCount === 3,
        );
        expect(likeFrame.type).toBe('upsert');
        // Web Push: every kind reached the browser, decryptable and VAPID-signed.
        const pushed = await pollUntil(
          async () =>
            receiver.pushesTo(browser.name).map((p) => decryptPush(p.body, browser) as { type: string }),
          (payloads) =>
            ['like', 'comment', 'follow', 'mention', 'message'].every((t) =>
              payloads.some((p) => p.type === t),
            ),
        );
        expect(JSON.stringify(pushed)).not.toContain(Buffer.from('secret words').toString('base64'));
        const first = receiver.pushesTo(browser.name)[0];
        await verifyVapid(first?.headers ?? {}, { publicKey: vapid, audience: receiver.origin });
        // Undo: an unlike leaves two actors.
        expect((await call('DELETE', `/posts/${post}/like`, dave.token)).status).toBe(204);
        await pollUntil(
          () => inbox(alice),
          (list) => ofType(list, 'like')[0]?.actorCount === 2,
        );
        expect((await call('POST', '/notifications/read', alice.token, {})).status).toBe(204);
        expect((await call('GET', '/notifications/unread-count', alice.token)).body.count).toBe(0);
      } finally {
        socket.close();
      }
    }, 300_000);

    it('stores and pushes nothing of a kind switched off', async () => {
      const [erin, fred] = await Promise.all(['erin', 'fred'].map(signUp));
      if (!erin || !fred) throw new Error('sign-up');
      const browser = receiver.browser(`erin-${run}`);
      await call('POST', '/notifications/push-subscriptions', erin.token, browser.subscription);
      const prefs = { follow: true, like: false, comment: true, mention: true, message: true };
      expect((await call('PUT', '/notifications/preferences', erin.token, prefs)).status).toBe(200);
      const post = (await call('POST', '/posts', erin.token, { text: 'quiet' })).body.id as string;
      expect((await call('POST', `/posts/${post}/like`, fred.token)).status).toBe(204);
      expect((await call('POST', `/posts/${post}/comments`, fred.token, { text: 'hi' })).status).toBe(201);
      const items = await pollUntil(
        () => inbox(erin),
        (list) => list.length > 0,
      );
      expect(items.map((n) => n.type)).toEqual(['comment']);
      await pollUntil(
        async () => receiver.pushesTo(browser.name),
        (p) => p.length > 0,
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(
        receiver.pushesTo(browser.name).map((p) => (decryptPush(p.body, browser) as { type: string }).type),
      ).toEqual(['comment']);
    }, 300_000);

    it('after a restart nothing is notified twice, and a deleted account leaves the groups', async () => {
      const [gina, hank, ivan] = await Promise.all(['gina', 'hank', 'ivan'].map(signUp));
      if (!gina || !hank || !ivan) throw new Error('sign-up');
      const post = (await call('POST', '/posts', gina.token, { text: 'restart me' })).body.id as string;
      await call('POST', `/posts/${post}/like`, hank.token);
      await call('POST', `/posts/${post}/like`, ivan.token);
      await pollUntil(
        () => inbox(gina),
        (list) => ofType(list, 'like')[0]?.actorCount === 2,
      );
      await suite.nova.restart(['notifications']);
      // Something new after the restart proves the consumers run again; the old likes stay counted once.
      expect((await call('POST', `/users/${gina.id}/follow`, hank.token)).status).toBe(200);
      const items = await pollUntil(
        () => inbox(gina),
        (list) => ofType(list, 'follow').length === 1,
      );
      expect(items.map((n) => [n.type, n.actorCount])).toEqual([
        ['follow', 1],
        ['like', 2],
      ]);
      expect((await call('DELETE', '/users/me', ivan.token, { password: E2E_PASSWORD })).status).toBe(202);
      const after = await pollUntil(
        () => inbox(gina),
        (list) => ofType(list, 'like')[0]?.actorCount === 1,
      );
      expect(ofType(after, 'like')[0]?.actors.map((a) => a.id)).toEqual([hank.id]);
    }, 300_000);
  });
}
