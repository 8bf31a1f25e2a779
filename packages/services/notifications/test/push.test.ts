import { randomUUID } from 'node:crypto';
import { DATABASE_KINDS } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInboxCommands } from '../src/commands/inbox-commands.js';
import { createNotificationsContext, type SocialReads } from '../src/context.js';
import { CONTENT_EVENTS_GROUP } from '../src/workers/content-events-consumer.js';
import { type Browser, decryptPush, PushReceiver, verifyVapid } from './support/push-receiver.js';
import { openSocket } from './support/socket-client.js';
import { events, type NotificationsUnderTest, startNotifications } from './support/start-notifications.js';

const id = () => randomUUID();
const token = (userId: string) => `token-${userId}`;

async function until<T>(look: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await look();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

// Real Web Push to a push service on 127.0.0.1 (insecure endpoints allowed):
// the test decrypts each payload with the browser's keys and checks the VAPID JWT.
describe.each(DATABASE_KINDS)('web push on %s', (kind) => {
  let t: NotificationsUnderTest;
  let receiver: PushReceiver;
  let vapidKey: string;
  let contentEvents = 0;
  const publishContent = async (...list: Parameters<NotificationsUnderTest['publish']>[1][number][]) => {
    await t.publish('content', list);
    contentEvents += list.length;
    await t.processed(CONTENT_EVENTS_GROUP, contentEvents);
  };
  const subscribe = async (userId: string, browser: Browser) => {
    const answer = await t.nova.call('POST', '/api/v1/notifications/push-subscriptions', {
      token: token(userId),
      body: browser.subscription,
    });
    expect(answer.status).toBe(201);
  };
  const subscriptions = async (userId: string) =>
    t.database.db.selectFrom('push_subscriptions').select('endpoint').where('user_id', '=', userId).execute();

  beforeAll(async () => {
    receiver = new PushReceiver();
    await receiver.start();
    t = await startNotifications(kind, {
      WEB_PUSH_SUBJECT: 'mailto:ops@nova.example',
      WEB_PUSH_TIMEOUT_SECONDS: '8',
    });
    const key = await t.nova.call('GET', '/api/v1/notifications/vapid-key', { token: token(id()) });
    expect(key.status).toBe(200);
    vapidKey = key.body.publicKey;
    expect(Buffer.from(vapidKey, 'base64url')).toHaveLength(65);
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  it('pushes an RFC 8291 payload the browser decrypts, signed with the VAPID key', async () => {
    const author = id();
    const liker = id();
    const post = id();
    const browser = receiver.browser(`ok-${kind}`);
    await subscribe(author, browser);
    await publishContent(events.like('like.created', post, author, liker));
    const push = await until(() => receiver.pushesTo(browser.name)[0]);
    expect(push.headers['content-encoding']).toBe('aes128gcm');
    expect(push.headers.ttl).toBe('86400');
    expect(push.headers.topic).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const payload = decryptPush(push.body, browser) as Record<string, unknown>;
    expect(payload).toMatchObject({
      type: 'like',
      target: { type: 'post', id: post },
      actorIds: [liker],
      actorCount: 1,
    });
    const claims = await verifyVapid(push.headers, { publicKey: vapidKey, audience: receiver.origin });
    expect(claims.sub).toBe('mailto:ops@nova.example');
    // Sent once, and the queue is empty afterwards.
    await until(async () =>
      (await t.database.db.selectFrom('push_deliveries').select('id').execute()).length === 0
        ? true
        : undefined,
    );
    expect(receiver.pushesTo(browser.name)).toHaveLength(1);
  });

  it('drops a subscription its push service answers 410, and retries 500 and 429 until accepted', async () => {
    const author = id();
    const gone = receiver.browser(`gone-${kind}`, { statuses: [410] });
    const flaky = receiver.browser(`flaky-${kind}`, { statuses: [500, 429, 201] });
    await subscribe(author, gone);
    await subscribe(author, flaky);
    await publishContent(events.like('like.created', id(), author, id()));
    await until(async () => ((await subscriptions(author)).length === 1 ? true : undefined));
    expect((await subscriptions(author)).map((s) => s.endpoint)).toEqual([flaky.subscription.endpoint]);
    const third = await until(() => receiver.pushesTo(flaky.name)[2], 20_000);
    const [first] = receiver.pushesTo(flaky.name);
    // Backoff: the third attempt came after the first by at least the 429's Retry-After (1 s).
    expect(third.at - (first?.at ?? 0)).toBeGreaterThanOrEqual(1000);
    expect(decryptPush(third.body, flaky)).toMatchObject({ type: 'like', actorCount: 1 });
    await until(async () =>
      (await t.database.db.selectFrom('push_deliveries').select('id').execute()).length === 0
        ? true
        : undefined,
    );
    expect(receiver.pushesTo(gone.name)).toHaveLength(1);
  });

  it('a slow push service does not delay the socket frame', async () => {
    const author = id();
    const post = id();
    const slow = receiver.browser(`slow-${kind}`, { statuses: [201], delayMs: 4000 });
    await subscribe(author, slow);
    // Occupy the push service first: the next push queues behind a slow answer.
    await publishContent(events.like('like.created', id(), author, id()));
    await until(() => receiver.pushesTo(slow.name)[0]);
    const socket = await openSocket(t.nova.baseUrl as string, token(author));
    try {
      const sent = Date.now();
      await t.publish('content', [events.like('like.created', post, author, id())]);
      contentEvents += 1;
      const frame = await socket.waitFor(
        (f) => f.channel === 'notification' && (f.data as { target?: { id?: string } }).target?.id === post,
      );
      expect(frame.type).toBe('upsert');
      expect(frame.at - sent).toBeLessThan(2500);
      // Pushes to the slow endpoint (4 s per answer) are still outstanding.
      expect(
        (await t.database.db.selectFrom('push_deliveries').select('id').execute()).length,
      ).toBeGreaterThan(0);
    } finally {
      socket.close();
    }
    await t.processed(CONTENT_EVENTS_GROUP, contentEvents);
  });

  it('neither stores nor pushes a kind switched off', async () => {
    const author = id();
    const post = id();
    const browser = receiver.browser(`prefs-${kind}`);
    await subscribe(author, browser);
    await t.nova.call('PUT', '/api/v1/notifications/preferences', {
      token: token(author),
      body: { follow: true, like: false, comment: true, mention: true, message: true },
    });
    // Same post, same log key: the like is handled before the comment.
    await publishContent(
      events.like('like.created', post, author, id()),
      events.comment(id(), post, author, id()),
    );
    const push = await until(() => receiver.pushesTo(browser.name)[0]);
    expect(decryptPush(push.body, browser)).toMatchObject({ type: 'comment' });
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.pushesTo(browser.name)).toHaveLength(1);
    const stored = await t.database.db
      .selectFrom('notifications')
      .select('kind')
      .where('recipient_id', '=', author)
      .execute();
    expect(stored).toEqual([{ kind: 'comment' }]);
  });

  it('refuses unusable subscriptions with a 400 naming the field, and stores nothing', async () => {
    const owner = id();
    const good = receiver.browser(`refused-${kind}`).subscription;
    const cases: Array<[unknown, string]> = [
      [{ ...good, endpoint: 'not a url' }, '/endpoint'],
      [{ ...good, endpoint: 'ftp://push.example/x' }, '/endpoint'],
      [
        { ...good, keys: { ...good.keys, p256dh: Buffer.alloc(65, 4).toString('base64url') } },
        '/keys/p256dh',
      ],
      [{ ...good, keys: { ...good.keys, p256dh: 'not*base64' } }, '/keys/p256dh'],
      [{ ...good, keys: { ...good.keys, auth: Buffer.alloc(8).toString('base64url') } }, '/keys/auth'],
    ];
    for (const [body, field] of cases) {
      const answer = await t.nova.call('POST', '/api/v1/notifications/push-subscriptions', {
        token: token(owner),
        body,
      });
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('invalid_push_subscription');
      expect(answer.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    }
    expect(await subscriptions(owner)).toEqual([]);
    const deleted = await t.nova.call('DELETE', '/api/v1/notifications/push-subscriptions', {
      token: token(owner),
      body: { endpoint: good.endpoint },
    });
    expect(deleted.status).toBe(204);
  });
});

describe('push endpoints without WEB_PUSH_INSECURE_ENDPOINTS', () => {
  let t: NotificationsUnderTest;
  beforeAll(async () => {
    t = await startNotifications('pglite', { WEB_PUSH_INSECURE_ENDPOINTS: 'false' });
  });
  afterAll(() => t?.close());

  it('accepts only https on public addresses', async () => {
    const receiver = new PushReceiver();
    const keys = receiver.browser('k').subscription.keys;
    for (const endpoint of [
      'http://push.example.com/x',
      'https://127.0.0.1/x',
      'https://10.1.2.3/x',
      'https://192.168.0.7/x',
      'https://169.254.169.254/latest',
      'https://[::1]/x',
      'https://[::ffff:127.0.0.1]/x',
      'https://[fd00::1]/x',
      'https://localhost/x',
    ]) {
      const answer = await t.nova.call('POST', '/api/v1/notifications/push-subscriptions', {
        token: token(id()),
        body: { endpoint, keys },
      });
      expect(answer.status, endpoint).toBe(400);
      expect(answer.body.errors[0].field).toBe('/endpoint');
    }
    // A name is judged by what it resolves to (the resolver is the test's).
    const ctxWith = (addresses: string[]) =>
      createNotificationsContext(
        t.nova.kernel,
        { social: t.social.api as unknown as SocialReads },
        { resolveHost: async () => addresses },
      );
    const user = id();
    const publicInbox = createInboxCommands(
      await ctxWith(['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']),
    );
    await expect(
      publicInbox.subscribe(user, { endpoint: 'https://push.example.com/abc', keys }),
    ).resolves.toEqual(expect.objectContaining({ created: true }));
    const rebound = createInboxCommands(await ctxWith(['93.184.215.14', '10.0.0.8']));
    await expect(
      rebound.subscribe(user, { endpoint: 'https://push.example.net/abc', keys }),
    ).rejects.toMatchObject({
      code: 'invalid_push_subscription',
    });
  });
});
