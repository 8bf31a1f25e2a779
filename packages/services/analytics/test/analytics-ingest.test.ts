import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnalyticsFixture, eventually, openAnalytics, storeCases } from './support/analytics-fixture.js';

const uuid = () => randomUUID();
const now = () => new Date().toISOString();
const token = (userId: string) => `token-${userId}`;

describe.each(storeCases())('analytics ingest → sink → insights (%s store, %s)', (shape, database) => {
  let fx: AnalyticsFixture;
  const author = uuid();
  const viewer = uuid();
  const post = uuid();

  beforeAll(async () => {
    fx = await openAnalytics(shape, { database });
    await fx.publishPost(author, post, now());
  });
  afterAll(() => fx?.close());

  const insights = (userId: string, postId = post) =>
    fx.nova.call('GET', `/api/v1/analytics/posts/${postId}`, { token: token(userId) });
  const ingest = (userId: string, events: unknown[]) =>
    fx.nova.call('POST', '/api/v1/events', { token: token(userId), body: { events } });
  const views = (n: number) =>
    Array.from({ length: n }, () => ({ id: uuid(), type: 'view', ts: now(), postId: post }));

  it('counts views, likes and comments for the author, hour by hour', async () => {
    const batch = views(5);
    const answer = await ingest(viewer, [...batch, { id: uuid(), type: 'app_open', ts: now() }]);
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ accepted: 6, duplicates: 0 });
    await fx.publish('content', [
      {
        aggregateType: 'content.like',
        aggregateId: post,
        type: 'like.created',
        payload: { postId: post, postAuthorId: author, userId: viewer },
      },
      {
        aggregateType: 'content.comment',
        aggregateId: post,
        type: 'comment.created',
        payload: {
          commentId: uuid(),
          postId: post,
          postAuthorId: author,
          authorId: viewer,
          parentId: null,
          createdAt: now(),
        },
      },
    ]);
    const seen = await eventually(
      () => insights(author),
      (r) =>
        r.status === 200 &&
        r.body.views === 5 &&
        r.body.uniqueViewers === 1 &&
        r.body.likes === 1 &&
        r.body.comments === 1,
    );
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ postId: post, views: 5, uniqueViewers: 1, likes: 1, comments: 1 });
    expect(seen.body.series).toHaveLength(1);
    expect(seen.body.series[0]).toMatchObject({ views: 5, likes: 1, comments: 1 });
    expect(seen.body.series[0].start).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:00:00Z$/);
  });

  it('answers 404 to anyone but the author, and for unknown posts', async () => {
    expect((await insights(viewer)).status).toBe(404);
    expect((await insights(author, uuid())).status).toBe(404);
    expect((await fx.nova.call('GET', `/api/v1/analytics/posts/${post}`)).status).toBe(401);
  });

  it('counts a batch posted twice once, also when posted in parallel', async () => {
    const before = (await insights(author)).body.views as number;
    const batch = views(20);
    const answers = await Promise.all([ingest(viewer, batch), ingest(viewer, batch), ingest(viewer, batch)]);
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202]);
    expect(answers.reduce((sum, a) => sum + a.body.accepted, 0)).toBe(20);
    expect(answers.reduce((sum, a) => sum + a.body.duplicates, 0)).toBe(40);
    const again = await ingest(viewer, batch);
    expect(again.body).toEqual({ accepted: 0, duplicates: 20 });
    const seen = await eventually(
      () => insights(author),
      (r) => r.body.views >= before + 20,
    );
    expect(seen.body.views).toBe(before + 20);
  });

  it('counts events the log delivers twice once, in either record shape', async () => {
    const before = (await insights(author)).body.views as number;
    const events = views(7).map((e) => ({
      id: e.id,
      type: 'view' as const,
      postId: post,
      target: null,
      ms: null,
      clientTs: e.ts,
    }));
    const receivedAt = now();
    const record = {
      aggregateType: 'analytics.client_events',
      aggregateId: viewer,
      type: 'client_events.batch',
      payload: {
        userId: viewer,
        receivedAt,
        events: events.map((e) => [e.id, e.type, e.postId, e.target, e.ms, e.clientTs]),
      },
    };
    // The shape an ingest wrote before ADR 041, still in the log after an upgrade.
    const older = {
      ...record,
      type: 'client_events.accepted',
      payload: { userId: viewer, receivedAt, events },
    };
    // The same accepted events as three log records: what a redelivery after a crash looks like to the sink.
    await fx.publish('content', []);
    await fx.nova.kernel.databases
      .open('analytics')
      .then((db) => db.transaction((tx) => fx.nova.kernel.outbox.write(tx, [older, record, record])));
    const seen = await eventually(
      () => insights(author),
      (r) => r.body.views >= before + 7,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await insights(author)).body.views).toBe(before + 7);
    expect(seen.body.views).toBe(before + 7);
  });

  it('refuses a batch with bad events, names each, and stores nothing of it', async () => {
    const good = views(2);
    const bad = [
      ...good,
      { id: uuid(), type: 'teleport', ts: now() },
      { id: uuid(), type: 'view', ts: now() },
      { id: uuid(), type: 'view', ts: new Date(Date.now() - 366 * 86_400_000).toISOString(), postId: post },
      { id: uuid(), type: 'view', ts: new Date(Date.now() + 366 * 86_400_000).toISOString(), postId: post },
      { id: uuid(), type: 'click', ts: now(), target: 'x'.repeat(2000) },
      { id: 'not-a-uuid', type: 'dwell', ts: now(), postId: post, ms: -1, extra: true },
    ];
    const answer = await ingest(viewer, bad);
    expect(answer.status).toBe(400);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    expect(answer.body.code).toBe('invalid_events');
    const fields = (answer.body.errors as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        '/events/2/type',
        '/events/3/postId',
        '/events/4/ts',
        '/events/5/ts',
        '/events/6',
        '/events/7/id',
        '/events/7/ms',
        '/events/7/extra',
      ]),
    );
    expect(fields.some((f) => f.startsWith('/events/0') || f.startsWith('/events/1'))).toBe(false);
    // Nothing of the refused batch was kept: its good events are new when sent alone.
    expect((await ingest(viewer, good)).body).toEqual({ accepted: 2, duplicates: 0 });
  });

  it('refuses 501 events in one request and an empty or malformed body', async () => {
    const tooMany = await ingest(viewer, views(501));
    expect(tooMany.status).toBe(400);
    expect((await ingest(viewer, [])).status).toBe(400);
    const raw = await fx.nova.call('POST', '/api/v1/events', { token: token(viewer), raw: '{"events": [' });
    expect(raw.status).toBe(400);
    expect((await fx.nova.call('POST', '/api/v1/events', { body: { events: views(1) } })).status).toBe(401);
  });

  it("totals a creator's posts and followers by day", async () => {
    const follower = uuid();
    await fx.publish('social', [
      {
        aggregateType: 'social.follow',
        aggregateId: follower,
        type: 'follow.created',
        payload: { followerId: follower, followeeId: author },
      },
    ]);
    // Both read the same rollup: the creator's views are the one post's, once the sink caught up.
    const both = async () => ({
      post: (await insights(author)).body,
      me: await fx.nova.call('GET', '/api/v1/analytics/me', { token: token(author) }),
    });
    const { post: postNow, me } = await eventually(
      both,
      (r) => r.me.body.followers === 1 && r.me.body.views === r.post.views,
    );
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ views: postNow.views, likes: 1, comments: 1, followers: 1 });
    expect(me.body.series.at(-1)).toMatchObject({ followers: 1, likes: 1, comments: 1 });
    expect(me.body.series.at(-1).start).toMatch(/T00:00:00Z$/);
  });

  it("removes a deleted account's events from the store", async () => {
    const leaver = uuid();
    const before = (await insights(author)).body;
    await ingest(leaver, views(4));
    await fx.publish('content', [
      {
        aggregateType: 'content.like',
        aggregateId: post,
        type: 'like.created',
        payload: { postId: post, postAuthorId: author, userId: leaver },
      },
    ]);
    await eventually(
      () => insights(author),
      (r) => r.body.views === before.views + 4 && r.body.likes === before.likes + 1,
    );
    await fx.publish('auth', [
      {
        aggregateType: 'auth.user',
        aggregateId: leaver,
        type: 'user.deleted',
        payload: { userId: leaver, deletedAt: now() },
      },
    ]);
    // The rollup is rebuilt (old rows deleted, then re-inserted) and insights read it in two
    // queries: wait until all three figures agree, not just the first two to settle.
    const after = await eventually(
      () => insights(author),
      (r) =>
        r.body.views === before.views &&
        r.body.likes === before.likes &&
        r.body.uniqueViewers === before.uniqueViewers,
    );
    expect(after.body).toMatchObject({
      views: before.views,
      likes: before.likes,
      uniqueViewers: before.uniqueViewers,
    });
    const left = await fx.warehouse.query<{ n: string | number }>(
      `SELECT count() AS n FROM ${fx.database}.client_events WHERE user_id = '${leaver}'`,
    );
    expect(Number(left[0]?.n)).toBe(0);
  });
});
