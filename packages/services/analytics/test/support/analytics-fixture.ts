import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NOVA_CONTRACTS } from '@nova/contracts';
import { createLogger, type OutboxEvent, runMigrations, UnauthenticatedError } from '@nova/kernel';
import type { AnyApi } from '@nova/kernel/boot';
import { DATABASE_KINDS, type DatabaseKind, type StartedModules, startModules } from '@nova/kernel/testing';
import { inject } from 'vitest';
import { createAnalyticsContext } from '../../src/context.js';
import { analyticsModule } from '../../src/index.js';
import { createServerWarehouse } from '../../src/warehouse/clickhouse-server.js';
import type { Warehouse } from '../../src/warehouse/warehouse.js';
import { createSourceDouble, type SourceDouble } from './source-double.js';

/** Where the analytics tables live: embedded chDB, or the test ClickHouse server. */
export type StoreShape = 'embedded' | 'server';

/** The server shape runs when global setup started the test ClickHouse server (NOVA_TEST_CLICKHOUSE≠off). */
export function storeShapes(): StoreShape[] {
  return inject('clickhouseUrl') ? ['embedded', 'server'] : ['embedded'];
}

/** Every analytics store with each of analytics' PostgreSQL kinds (the dedupe table, the outbox log). */
export function storeCases(): [StoreShape, DatabaseKind][] {
  return storeShapes().flatMap((shape) =>
    DATABASE_KINDS.map((kind): [StoreShape, DatabaseKind] => [shape, kind]),
  );
}

/** Auth's API as the edge sees it, standing in for auth: the bearer token `token-<userId>` is that user's. */
const authStandIn = {
  verifyToken: async ({ token }: { token: string }) => {
    if (!token.startsWith('token-')) throw new UnauthenticatedError('invalid_token');
    return { userId: token.slice(6), sessionId: 's', tokenId: 't', expiresAt: Date.now() / 1000 + 600 };
  },
} as unknown as AnyApi;

export interface AnalyticsFixture {
  nova: StartedModules;
  shape: StoreShape;
  /** The analytics store the service writes (its own connection, for assertions). */
  warehouse: Warehouse;
  database: string;
  /** Content's and social's dayActivity as the reconciler sees them. */
  sources: SourceDouble;
  /** Writes events to a producing service's outbox (auth, content, social), as that service would. */
  publish(producer: 'auth' | 'content' | 'social', events: OutboxEvent[]): Promise<void>;
  /** Content's post.created for a public post without media. */
  publishPost(authorId: string, postId: string, createdAt?: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Analytics as `nova start --target=analytics` boots it, with the outboxes
 * of the services whose topics the sink reads (their own tables do not
 * matter here: their outbox is the log). Server shape: a private
 * nova_test_* database on the test server, dropped by close().
 */
export async function openAnalytics(
  shape: StoreShape,
  options: { database?: DatabaseKind; env?: Record<string, string> } = {},
): Promise<AnalyticsFixture> {
  const database = `nova_test_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const env: Record<string, string> = { CLICKHOUSE_DATABASE: database, ...options.env };
  if (shape === 'server') env.CLICKHOUSE_URL = inject('clickhouseUrl');
  const sources = createSourceDouble();
  const nova = await startModules({
    modules: [analyticsModule],
    contracts: NOVA_CONTRACTS,
    database: options.database ?? 'pglite',
    provided: {
      auth: authStandIn,
      content: sources.content as unknown as AnyApi,
      social: sources.social as unknown as AnyApi,
    },
    env,
    // Workers start below, once the producers' outboxes exist.
    listen: false,
    workers: false,
  });
  const emptyDir = await mkdtemp(path.join(os.tmpdir(), 'nova-no-migrations-'));
  const logger = createLogger('silent');
  const producers = {} as Record<
    'auth' | 'content' | 'social',
    Awaited<ReturnType<typeof nova.kernel.databases.open>>
  >;
  for (const name of ['auth', 'content', 'social'] as const) {
    producers[name] = await nova.kernel.databases.open(name);
    await runMigrations(producers[name], emptyDir, logger);
  }
  await rm(emptyDir, { recursive: true, force: true });
  await nova.booted.startWorkers();
  const { warehouse } = await createAnalyticsContext(nova.kernel);
  const publish = (producer: 'auth' | 'content' | 'social', events: OutboxEvent[]) =>
    producers[producer].transaction((tx) => nova.kernel.outbox.write(tx, events));
  return {
    nova,
    shape,
    warehouse,
    database,
    sources,
    publish,
    publishPost: (authorId, postId, createdAt = new Date().toISOString()) =>
      publish('content', [
        {
          aggregateType: 'content.post',
          aggregateId: authorId,
          type: 'post.created',
          payload: { postId, authorId, visibility: 'public', hashtags: [], mediaIds: [], createdAt },
        },
      ]),
    async close() {
      await nova.close();
      if (shape === 'server') {
        const admin = createServerWarehouse(inject('clickhouseUrl'));
        await admin.command(`DROP DATABASE IF EXISTS ${database}`);
        await admin.close();
      }
      await warehouse.close();
    },
  };
}

/** Polls `read` until `done` holds (the sink applies the log asynchronously). */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T;
  for (;;) {
    last = await read();
    if (done(last)) return last;
    if (Date.now() > deadline) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
