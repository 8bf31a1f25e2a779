import {
  type FollowSnapshotEdge,
  SOCIAL_FOLLOW_TOPIC,
  type SocialApi,
  socialFollowsSnapshot,
  socialSyncApi,
} from '@nova/contracts';
import {
  bindInProcess,
  createLogger,
  createMetricsRegistry,
  type Database,
  defineBackfill,
  runMigrations,
  typedConsumer,
  ValidationError,
  type Worker,
} from '@nova/kernel';
import { createSyncClient, createSyncServer, type SyncServer } from '@nova/kernel/grpc';
import { DATABASE_KINDS } from '@nova/kernel/testing';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSocialSyncApi } from '../src/api/sync-api.js';
import { createDayFollowsQuery } from '../src/queries/day-follows-query.js';
import { openSocialFixture, type SocialFixture } from './support/fixture.js';

interface Model {
  follows_model: { group_id: string; follower_id: string; followee_id: string };
}

const TOKEN = 'backfill-test-internal-token-0123456789';
const WAIT = { timeout: 60_000, interval: 50 };

/**
 * A late consumer group (as the feed will be) builds its follow graph from
 * social's listFollows snapshot — in-process and over gRPC — after the
 * follow events it never saw were pruned, while users keep following and
 * unfollowing; at the end its model is social's graph, edge for edge.
 */
describe.each(DATABASE_KINDS)('follow-graph backfill from social, %s', (kind) => {
  let f: SocialFixture;
  let late: Database<Model>;
  let server: SyncServer;
  let grpcClient: ReturnType<typeof createSyncClient<typeof socialSyncApi>>;
  let users: string[];
  const workers: Worker[] = [];
  const logger = createLogger('silent');

  beforeAll(async () => {
    f = await openSocialFixture(kind);
    late = await f.nova.kernel.databases.open<Model>('latefeed');
    await runMigrations(late as Database<unknown>, '/nonexistent', logger);
    await sql`create table latefeed.follows_model (
      group_id text not null, follower_id text not null, followee_id text not null,
      primary key (group_id, follower_id, followee_id))`.execute(late.db);
    const handlers = createSocialSyncApi(f.social.queries, createDayFollowsQuery(f.database.db));
    const metrics = createMetricsRegistry();
    server = createSyncServer({
      apis: [{ definition: socialSyncApi, handlers }],
      internalToken: TOKEN,
      logger,
      metrics,
    });
    const port = await server.listen('127.0.0.1', 0);
    grpcClient = createSyncClient(socialSyncApi, {
      url: `grpc://127.0.0.1:${port}`,
      caller: 'feed',
      internalToken: TOKEN,
      logger,
      metrics,
    });
    users = await f.addUsers(16);
  });

  afterAll(async () => {
    const deadline = Date.now() + 5000;
    await Promise.all(workers.map((w) => w.stop(deadline)));
    grpcClient?.close();
    await server?.stop(Date.now() + 1000);
    await f?.close();
  });

  const inProcess = (): SocialApi =>
    bindInProcess(socialSyncApi, createSocialSyncApi(f.social.queries, createDayFollowsQuery(f.database.db)));
  const bindings: Array<[string, () => Pick<SocialApi, 'listFollows'>]> = [
    ['in-process', inProcess],
    ['gRPC', () => grpcClient],
  ];

  const graph = async (): Promise<string[]> => {
    const { rows } = await sql<{ e: string }>`
      select follower_id || '>' || followee_id as e from social.follows`.execute(f.database.db);
    return rows.map((r) => r.e).sort();
  };
  const model = async (group: string): Promise<string[]> => {
    const rows = await late.db
      .selectFrom('follows_model')
      .select(['follower_id', 'followee_id'])
      .where('group_id', '=', group)
      .execute();
    return rows.map((r) => `${r.follower_id}>${r.followee_id}`).sort();
  };
  const pick = () => users[Math.floor(Math.random() * users.length)] as string;
  const randomFlip = async () => {
    const a = pick();
    const b = pick();
    if (a === b) return;
    if (Math.random() < 0.6) await f.social.follows.follow(a, b);
    else await f.social.follows.unfollow(a, b);
  };

  it.each(bindings)(
    'listFollows (%s) returns every edge once, in key order, page by page',
    async (_, api) => {
      for (let i = 0; i < 60; i++) await randomFlip();
      const pages: FollowSnapshotEdge[][] = [];
      let after: string | null = null;
      do {
        const page: { edges: FollowSnapshotEdge[]; nextCursor: string | null } = await api().listFollows({
          after,
          limit: 7,
        });
        pages.push(page.edges);
        after = page.nextCursor;
      } while (after !== null);
      const listed = pages.flat().map((e) => `${e.followerId}>${e.followeeId}`);
      expect(listed).toEqual(await graph());
      expect(listed.length).toBeGreaterThan(7);
      expect(pages.slice(0, -1).every((p) => p.length === 7)).toBe(true);
      await expect(api().listFollows({ after: 'not-a-cursor' })).rejects.toBeInstanceOf(ValidationError);
    },
  );

  it.each(bindings)(
    'a late group backfills from listFollows (%s) after retention, racing follows and unfollows',
    async (binding, api) => {
      for (let i = 0; i < 80; i++) await randomFlip();
      // Retention: the follow events written so far are gone from the log.
      await sql`delete from social.outbox where aggregatetype = 'social.follow'`.execute(f.database.db);
      const group = `feed.follows_${binding === 'gRPC' ? 'grpc' : 'local'}`;
      const read = socialFollowsSnapshot(api());
      let reads = 0;
      const upsert = (tx: Kysely<Model>, edge: FollowSnapshotEdge) =>
        tx
          .insertInto('follows_model')
          .values({ group_id: group, follower_id: edge.followerId, followee_id: edge.followeeId })
          .onConflict((oc) => oc.columns(['group_id', 'follower_id', 'followee_id']).doNothing())
          .execute();
      const worker = f.ctx.eventLog.consumer(
        typedConsumer({
          group,
          topics: [SOCIAL_FOLLOW_TOPIC],
          database: late,
          handlers: {
            // State-setting, so a replayed event lands on the same state (ADR 018).
            async 'follow.created'({ payload }, { tx }) {
              await upsert(tx, payload);
            },
            async 'follow.removed'({ payload }, { tx }) {
              await tx
                .deleteFrom('follows_model')
                .where('group_id', '=', group)
                .where('follower_id', '=', payload.followerId)
                .where('followee_id', '=', payload.followeeId)
                .execute();
            },
          },
          ignore: ['follow.requested'],
          backfill: defineBackfill<Model, FollowSnapshotEdge>({
            pageSize: 5,
            async read(cursor, limit) {
              reads += 1;
              // A slow upstream, so that follows race the snapshot.
              await new Promise((resolve) => setTimeout(resolve, 40));
              return read(cursor, limit);
            },
            async apply(edges, { tx }) {
              for (const edge of edges) await upsert(tx, edge);
            },
          }),
        }),
      );
      workers.push(worker);
      let writing = true;
      let flips = 0;
      const racer = (async () => {
        while (writing) {
          await randomFlip();
          flips += 1;
          await new Promise((resolve) => setTimeout(resolve, 3));
        }
      })();
      try {
        await worker.start();
        await expect.poll(() => worker.health().reason ?? '', WAIT).toMatch(/backfilling/);
        await expect.poll(() => worker.health().status, WAIT).toBe('ok');
        const atDone = flips;
        await expect.poll(() => flips - atDone, WAIT).toBeGreaterThanOrEqual(20);
      } finally {
        writing = false;
        await racer;
      }
      expect(reads).toBeGreaterThan(3);
      await expect.poll(() => model(group), WAIT).toEqual(await graph());
    },
  );
});
