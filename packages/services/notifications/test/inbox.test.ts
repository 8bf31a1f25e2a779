import { createECDH, randomUUID } from 'node:crypto';
import { DATABASE_KINDS } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationView } from '../src/store/notification-mapper.js';
import { CONTENT_EVENTS_GROUP } from '../src/workers/content-events-consumer.js';
import { MESSAGE_EVENTS_GROUP } from '../src/workers/message-events-consumer.js';
import { SOCIAL_EVENTS_GROUP } from '../src/workers/social-events-consumer.js';
import { USER_EVENTS_GROUP } from '../src/workers/user-events-consumer.js';
import { events, type NotificationsUnderTest, startNotifications } from './support/start-notifications.js';

const id = () => randomUUID();
const token = (userId: string) => `token-${userId}`;

// Events go into the producers' outboxes (the embedded log) and reach the
// real consumers; the answers are read over HTTP as a client would.
describe.each(DATABASE_KINDS)('notifications on %s', (kind) => {
  let t: NotificationsUnderTest;
  let contentEvents = 0;
  let socialEvents = 0;
  const publishContent = async (...list: Parameters<NotificationsUnderTest['publish']>[1][number][]) => {
    await t.publish('content', list);
    contentEvents += list.length;
    await t.processed(CONTENT_EVENTS_GROUP, contentEvents);
  };
  const publishSocial = async (...list: Parameters<NotificationsUnderTest['publish']>[1][number][]) => {
    await t.publish('social', list);
    socialEvents += list.length;
    await t.processed(SOCIAL_EVENTS_GROUP, socialEvents);
  };
  const list = async (userId: string, query = '') => {
    const answer = await t.nova.call('GET', `/api/v1/notifications${query}`, { token: token(userId) });
    expect(answer.status).toBe(200);
    return answer.body as { items: NotificationView[]; nextCursor: string | null };
  };
  const unread = async (userId: string) =>
    (await t.nova.call('GET', '/api/v1/notifications/unread-count', { token: token(userId) })).body.count;

  beforeAll(async () => {
    t = await startNotifications(kind);
  });
  afterAll(() => t?.close());

  it('groups likes of one post into one notification with the newest actors and a count', async () => {
    const author = id();
    const post = id();
    const likers = [id(), id(), id(), id(), id()];
    for (const liker of likers) await publishContent(events.like('like.created', post, author, liker));
    await publishContent(events.like('like.created', post, author, author)); // one's own like
    const { items } = await list(author);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      type: 'like',
      target: { type: 'post', id: post },
      actorCount: 5,
      read: false,
    });
    expect(items[0]?.actors.map((a: { id: string }) => a.id)).toEqual([likers[4], likers[3], likers[2]]);
    expect(items[0]?.actors[0]?.username).toBe(`user-${likers[4]}`);
    expect(await unread(author)).toBe(1);

    // Unlike: the newest liker leaves the group; the count and actors follow.
    await publishContent(events.like('like.removed', post, author, likers[4] as string));
    const after = (await list(author)).items[0];
    expect(after?.actorCount).toBe(4);
    expect(after?.actors.map((a: { id: string }) => a.id)).toEqual([likers[3], likers[2], likers[1]]);
  });

  it('withdraws a deleted comment and every notification about a deleted post', async () => {
    const author = id();
    const post = id();
    const commenter = id();
    const comment = id();
    await publishContent(events.comment(comment, post, author, commenter));
    expect((await list(author)).items.map((n) => n.type)).toEqual(['comment']);
    await publishContent(events.commentDeleted(comment, post, commenter));
    expect((await list(author)).items).toEqual([]);

    const mentioned = id();
    await publishContent(
      events.like('like.created', post, author, commenter),
      events.mention(post, author, mentioned),
    );
    expect((await list(author)).items).toHaveLength(1);
    expect((await list(mentioned)).items[0]).toMatchObject({ type: 'mention', actorCount: 1 });
    await publishContent(events.postDeleted(post, author));
    expect((await list(author)).items).toEqual([]);
    expect((await list(mentioned)).items).toEqual([]);
  });

  it('turns an accepted follow request into a follow, and an unfollow withdraws it', async () => {
    const owner = id();
    const fan = id();
    const other = id();
    await publishSocial(events.follow('follow.requested', fan, owner));
    expect((await list(owner)).items.map((n) => n.type)).toEqual(['follow_request']);
    await publishSocial(
      events.follow('follow.created', fan, owner),
      events.follow('follow.created', other, owner),
    );
    const { items } = await list(owner);
    expect(items.map((n) => [n.type, n.actorCount])).toEqual([['follow', 2]]);
    await publishSocial(events.follow('follow.removed', fan, owner));
    expect((await list(owner)).items.map((n) => [n.type, n.actorCount])).toEqual([['follow', 1]]);
  });

  it('never notifies from a blocked or muted account, and a later block removes what was there', async () => {
    const author = id();
    const post = id();
    const blocked = id();
    const blocker = id();
    const muted = id();
    const friend = id();
    await publishSocial(
      events.block(author, blocked),
      events.block(blocker, author),
      events.mute(author, muted),
    );
    await publishContent(
      events.like('like.created', post, author, blocked),
      events.like('like.created', post, author, blocker),
      events.like('like.created', post, author, muted),
    );
    expect((await list(author)).items).toEqual([]);
    await publishContent(events.like('like.created', post, author, friend));
    expect((await list(author)).items[0]?.actorCount).toBe(1);
    // Blocked after the fact: the block event takes the friend's like out.
    await publishSocial(events.block(author, friend));
    expect((await list(author)).items).toEqual([]);
    // Unblocked: later actions notify again.
    await publishSocial(events.unblock(author, friend));
    await publishContent(events.like('like.created', id(), author, friend));
    expect((await list(author)).items.map((n) => n.actorCount)).toEqual([1]);
  });

  it('stores nothing of a kind switched off, and validates preferences', async () => {
    const author = id();
    const liker = id();
    const get = await t.nova.call('GET', '/api/v1/notifications/preferences', { token: token(author) });
    expect(get.body).toEqual({ follow: true, like: true, comment: true, mention: true, message: true });
    const off = { follow: true, like: false, comment: true, mention: true, message: true };
    const put = await t.nova.call('PUT', '/api/v1/notifications/preferences', {
      token: token(author),
      body: off,
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual(off);
    const bad = await t.nova.call('PUT', '/api/v1/notifications/preferences', {
      token: token(author),
      body: { like: 'no' },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    await publishContent(
      events.like('like.created', id(), author, liker),
      events.comment(id(), id(), author, liker),
    );
    expect((await list(author)).items.map((n) => n.type)).toEqual(['comment']);
    const { rows } = await t.database.db
      .selectFrom('notifications')
      .select('kind')
      .where('recipient_id', '=', author)
      .execute()
      .then((r) => ({ rows: r }));
    expect(rows.map((r) => r.kind)).toEqual(['comment']);
  });

  it('pages with a keyset cursor, marks read up to a point, and a new action makes a group unread again', async () => {
    const author = id();
    const liker = id();
    const posts = [id(), id(), id(), id(), id()];
    for (const post of posts) await publishContent(events.like('like.created', post, author, liker));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(author, `?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((n) => n.target.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...posts].reverse());
    expect(
      (await t.nova.call('GET', '/api/v1/notifications?cursor=bm9wZQ', { token: token(author) })).status,
    ).toBe(400);

    expect(await unread(author)).toBe(5);
    const third = (await list(author)).items[2];
    const read = await t.nova.call('POST', '/api/v1/notifications/read', {
      token: token(author),
      body: { upTo: third?.id },
    });
    expect(read.status).toBe(204);
    expect(await unread(author)).toBe(2);
    expect((await list(author)).items.map((n) => n.read)).toEqual([false, false, true, true, true]);
    // Someone else's notification id, or nonsense, changes nothing.
    const foreign = await t.nova.call('POST', '/api/v1/notifications/read', {
      token: token(id()),
      body: { upTo: third?.id },
    });
    expect(foreign.status).toBe(404);
    const nonsense = await t.nova.call('POST', '/api/v1/notifications/read', {
      token: token(author),
      body: { upTo: 'yesterday' },
    });
    expect(nonsense.status).toBe(400);
    expect((await t.nova.call('POST', '/api/v1/notifications/read', { token: token(author) })).status).toBe(
      204,
    );
    expect(await unread(author)).toBe(0);

    await publishContent(events.like('like.created', posts[0] as string, author, id()));
    expect(await unread(author)).toBe(1);
    const top = (await list(author)).items[0];
    expect(top).toMatchObject({ target: { id: posts[0] }, actorCount: 2, read: false });
  });

  it('forgets a deleted account: its inbox, preferences, subscriptions and its actions in others’ groups', async () => {
    const gone = id();
    const author = id();
    const post = id();
    const stays = id();
    await publishContent(
      events.like('like.created', post, author, gone),
      events.like('like.created', post, author, stays),
      events.like('like.created', id(), gone, stays),
    );
    await t.nova.call('PUT', '/api/v1/notifications/preferences', {
      token: token(gone),
      body: { follow: false, like: true, comment: true, mention: true, message: true },
    });
    expect(
      (
        await t.nova.call('POST', '/api/v1/notifications/push-subscriptions', {
          token: token(gone),
          body: {
            endpoint: `http://127.0.0.1:9/push/${gone}`,
            keys: { p256dh: browserKey(), auth: Buffer.alloc(16, 7).toString('base64url') },
          },
        })
      ).status,
    ).toBe(201);
    await t.publish('auth', [events.userDeleted(gone)]);
    await t.processed(USER_EVENTS_GROUP, 1);
    expect((await list(gone)).items).toEqual([]);
    const left = (await list(author)).items[0];
    expect(left?.actorCount).toBe(1);
    expect(left?.actors.map((a: { id: string }) => a.id)).toEqual([stays]);
    for (const table of ['preferences', 'push_subscriptions'] as const) {
      const rows = await t.database.db.selectFrom(table).selectAll().where('user_id', '=', gone).execute();
      expect(rows).toEqual([]);
    }
  });

  it('tells each other member a message arrived, grouped per conversation, and nothing of its content', async () => {
    const sender = id();
    const [a, b] = [id(), id()];
    const conversation = id();
    await t.publish('messaging', [
      events.message(conversation, sender, [a, b], 1),
      events.message(conversation, sender, [a, b], 2),
    ]);
    await t.processed(MESSAGE_EVENTS_GROUP, 2);
    for (const member of [a, b]) {
      const { items } = await list(member);
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({
        type: 'message',
        target: { type: 'conversation', id: conversation },
        actorCount: 1,
        actors: [{ id: sender }],
      });
      expect(Object.keys(items[0] ?? {}).sort()).toEqual(
        ['actorCount', 'actors', 'createdAt', 'id', 'read', 'target', 'type', 'updatedAt'].sort(),
      );
    }
    expect((await list(sender)).items).toEqual([]);
  });

  it('answers 401 without a token', async () => {
    expect((await t.nova.call('GET', '/api/v1/notifications')).status).toBe(401);
  });
});

function browserKey(): string {
  const ecdh = createECDH('prime256v1');
  return ecdh.generateKeys().toString('base64url');
}
