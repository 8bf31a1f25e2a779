import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalyticsOperations } from '../src/index.js';
import { waitForMutations } from '../src/warehouse/schema.js';
import { type AnalyticsFixture, eventually, openAnalytics, storeCases } from './support/analytics-fixture.js';

describe.each(storeCases())('reconciliation and backfill of a day (%s store, %s)', (shape, database) => {
  let fx: AnalyticsFixture;
  let ops: AnalyticsOperations;
  const day = '2026-11-20';
  const at = (minute: number) => `${day}T10:${String(minute).padStart(2, '0')}:00.000Z`;
  const author = randomUUID();
  const fan = randomUUID();
  const posts = [randomUUID(), randomUUID()];
  const late = randomUUID();

  beforeAll(async () => {
    fx = await openAnalytics(shape, { database });
    ops = fx.nova.services.analytics?.api as AnalyticsOperations;
    // The sources and the store agree: both posts, one like, one follow, delivered through the log.
    for (const [i, postId] of posts.entries()) {
      fx.sources.add('post', {
        entityId: postId,
        subjectId: postId,
        ownerId: author,
        actorId: author,
        createdAt: at(i),
      });
      await fx.publishPost(author, postId, at(i));
    }
    const comment = randomUUID();
    fx.sources.add('comment', {
      entityId: comment,
      subjectId: posts[0] as string,
      ownerId: author,
      actorId: fan,
      createdAt: at(5),
    });
    await fx.publish('content', [
      {
        aggregateType: 'content.comment',
        aggregateId: posts[0] as string,
        type: 'comment.created',
        payload: {
          commentId: comment,
          postId: posts[0],
          postAuthorId: author,
          authorId: fan,
          parentId: null,
          createdAt: at(5),
        },
      },
    ]);
    await eventually(
      () => ops.reconcile(day),
      (r) => r.kinds.every((k) => k.drift === 0) && r.kinds.find((k) => k.kind === 'comment')?.store === 1,
    );
  });
  afterAll(() => fx?.close());

  const driftOf = async () =>
    Object.fromEntries((await ops.reconcile(day)).kinds.map((k) => [k.kind, k.drift]));

  it('reports no drift when the store holds what the sources hold', async () => {
    expect(await driftOf()).toEqual({ post: 0, like: 0, comment: 0, follow: 0 });
    const metrics = await fx.nova.kernel.metrics.metrics();
    expect(metrics).toMatch(/nova_analytics_drift\{kind="post"\} 0/);
  });

  it('finds injected drift, exports it, and a backfill of the day removes it', async () => {
    // Lost in the store: a post's row deleted behind the sink's back.
    await fx.warehouse.command(
      `ALTER TABLE ${fx.database}.engagements DELETE WHERE kind = 'post' AND entity_id = '${posts[1]}'`,
    );
    await waitForMutations(fx.warehouse, fx.database, 'engagements');
    // Never delivered: a like and a follow only the sources know.
    fx.sources.add('like', {
      entityId: `${posts[0]}:${fan}`,
      subjectId: posts[0] as string,
      ownerId: author,
      actorId: fan,
      createdAt: at(7),
    });
    fx.sources.add('follow', {
      entityId: `${fan}:${author}`,
      subjectId: author,
      ownerId: author,
      actorId: fan,
      createdAt: at(8),
    });
    // Gone from the source, still in the store: a comment deleted without its event reaching analytics.
    fx.sources.remove('comment', (await storeEntities('comment'))[0] as string);

    expect(await driftOf()).toEqual({ post: -1, like: -1, comment: 1, follow: -1 });
    expect(await fx.nova.kernel.metrics.metrics()).toMatch(/nova_analytics_drift\{kind="post"\} -1/);
    const insightsBefore = await fx.nova.call('GET', `/api/v1/analytics/posts/${posts[1]}`, {
      token: `token-${author}`,
    });
    expect(insightsBefore.status).toBe(404);

    const filled = await ops.backfill(day);
    expect(filled.written).toBe(4);
    expect(filled.removed).toBe(1);
    expect(Object.fromEntries(filled.kinds.map((k) => [k.kind, k.drift]))).toEqual({
      post: 0,
      like: 0,
      comment: 0,
      follow: 0,
    });
    expect(await driftOf()).toEqual({ post: 0, like: 0, comment: 0, follow: 0 });

    // The insights see the backfilled day.
    const post = await fx.nova.call('GET', `/api/v1/analytics/posts/${posts[0]}`, {
      token: `token-${author}`,
    });
    expect(post.body).toMatchObject({ likes: 1, comments: 0 });
    expect(
      (await fx.nova.call('GET', `/api/v1/analytics/posts/${posts[1]}`, { token: `token-${author}` })).status,
    ).toBe(200);
    const me = await fx.nova.call('GET', '/api/v1/analytics/me', { token: `token-${author}` });
    expect(me.body).toMatchObject({ likes: 1, comments: 0, followers: 1 });

    // A second backfill changes nothing (idempotent).
    const again = await ops.backfill(day);
    expect(again.removed).toBe(0);
    expect(await driftOf()).toEqual({ post: 0, like: 0, comment: 0, follow: 0 });
  });

  it('keeps a later like given after the backfill (newer facts still win)', async () => {
    await fx.publish('content', [
      {
        aggregateType: 'content.like',
        aggregateId: posts[1] as string,
        type: 'like.created',
        payload: { postId: posts[1], postAuthorId: author, userId: late },
      },
    ]);
    const seen = await eventually(
      () => fx.nova.call('GET', `/api/v1/analytics/posts/${posts[1]}`, { token: `token-${author}` }),
      (r) => r.body.likes === 1,
    );
    expect(seen.body.likes).toBe(1);
  });

  it('refuses a malformed day', async () => {
    await expect(ops.reconcile('2026-13-45')).rejects.toThrow(/day/);
  });

  async function storeEntities(kind: string): Promise<string[]> {
    const rows = await fx.warehouse.query<{ entity_id: string }>(
      `SELECT entity_id FROM ${fx.database}.engagements FINAL WHERE kind = '${kind}' AND deleted = 0 ORDER BY entity_id`,
    );
    return rows.map((r) => r.entity_id);
  }
});
