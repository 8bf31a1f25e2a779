import { createServer } from 'node:net';
import path from 'node:path';
import { assertEventPayload } from '@nova/contracts';
import {
  API_PREFIX,
  type BlobStore,
  createEventLog,
  createFsBlobStore,
  createHealthRegistry,
  createHttpServer,
  createLogger,
  createMetricsRegistry,
  createOutboxWriter,
  createRealtime,
  createStores,
  type Kernel,
  type NovaApp,
  runMigrations,
} from '@nova/kernel';
import { type DatabaseKind, openTestDatabases } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { contentModule } from '../../src/index.js';
import { createSocialDouble, type SocialDouble } from '../support/social-double.js';

/** A parsed JSON answer, read by tests field by field. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary answer fields
type Json = any;

export interface MediaServer {
  url: string;
  blobs: BlobStore;
  social: SocialDouble;
  kernel: Kernel;
  /** An account; its id is also its bearer token here (the verifier below trusts it). */
  user(): string;
  upload(token: string, bytes: Buffer | Blob, filename: string, type?: string): Promise<Response>;
  /** GET /media/{id} until it leaves `processing` (or the time runs out). */
  settle(token: string, id: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  json(
    method: string,
    route: string,
    token?: string,
    body?: unknown,
  ): Promise<{ status: number; body: Json }>;
  /** Publishes a profile.updated as social would (its outbox, its topic). */
  profileUpdated(userId: string, avatarMediaId: string | null): Promise<void>;
  /** Whether a media row is marked attached (undefined: no such row). */
  attached(id: string): Promise<boolean | undefined>;
  /** Rows in the media table (deleted ones included). */
  mediaRows(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Content with its media pipeline over HTTP, as a client sees it: the real
 * routes, consumers and processor on the embedded event log, a blob store
 * (files by default), social's API as a double, and a token verifier that
 * takes the bearer token as the user id (auth has its own suites).
 */
export async function startMediaServer(
  options: { kind?: DatabaseKind; env?: Record<string, string>; blobs?: (dataDir: string) => BlobStore } = {},
): Promise<MediaServer> {
  // Variant URLs are absolute (NOVA_PUBLIC_URL): the port must be known before the server starts.
  const port = await freePort();
  const opened = await openTestDatabases(
    options.kind ?? 'pglite',
    { HOST: '127.0.0.1', PORT: String(port), NOVA_PUBLIC_URL: `http://127.0.0.1:${port}`, ...options.env },
    [contentModule],
  );
  const { config, provider } = opened;
  const logger = createLogger('silent');
  const metrics = createMetricsRegistry();
  const health = createHealthRegistry();
  const stores = createStores(config, logger);
  const eventLog = createEventLog({
    config,
    provider,
    logger,
    metrics,
    validate: assertEventPayload,
    pollIntervalMs: 50,
  });
  const blobs = options.blobs?.(config.dataDir) ?? createFsBlobStore(path.join(config.dataDir, 'media'));
  const kernel: Kernel = {
    config,
    logger,
    metrics,
    databases: provider,
    stores: stores.stores,
    pubsub: stores.pubsub,
    realtime: createRealtime({
      settings: config.realtime,
      pubsub: stores.pubsub,
      store: stores.stores.realtime,
      logger,
    }),
    eventLog,
    outbox: createOutboxWriter(assertEventPayload),
    health,
    blobs,
  };
  const database = await provider.open<Record<string, never>>('content');
  await runMigrations(database, contentModule.migrationsDir, logger);
  // Social's outbox (kernel tables only): content reads its profile events (avatars); tests write them.
  const socialSchema = await provider.open<Record<string, never>>('social');
  await runMigrations(socialSchema, path.join(config.dataDir, 'no-social-migrations'), logger);
  const social = createSocialDouble();
  const instance = await contentModule.init(kernel, { auth: {} as never, social });
  const app = await createHttpServer({
    config,
    logger,
    metrics,
    health,
    getTokenVerifier: () => async (token) => ({
      userId: token,
      sessionId: 'test',
      tokenId: token,
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    }),
  });
  const routes = instance.routes;
  if (routes?.api)
    await app.register(async (scope) => routes.api?.(scope as NovaApp), { prefix: API_PREFIX });
  await app.ready();
  const workers = instance.workers ?? [];
  for (const worker of workers) await worker.start();
  const url = await app.listen({ port, host: '127.0.0.1' });

  const json = async (method: string, route: string, token?: string, body?: unknown) => {
    const response = await fetch(`${url}${API_PREFIX}${route}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };

  return {
    url,
    blobs,
    social,
    kernel,
    user: () => social.addUser(),
    upload(token, bytes, filename, type = 'application/octet-stream') {
      const form = new FormData();
      form.append('file', bytes instanceof Blob ? bytes : new Blob([bytes], { type }), filename);
      return fetch(`${url}${API_PREFIX}/media`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: form,
      });
    },
    async settle(token, id, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const { status, body } = await json('GET', `/media/${id}`, token);
        if (status !== 200) throw new Error(`GET /media/${id} answered ${status}`);
        if (body.status !== 'processing' || Date.now() > until) return body;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    json,
    async profileUpdated(userId, avatarMediaId) {
      await socialSchema.transaction((tx) =>
        kernel.outbox.write(tx, [
          {
            aggregateType: 'social.profile',
            aggregateId: userId,
            type: 'profile.updated',
            payload: {
              userId,
              username: `u${userId.slice(0, 8)}`,
              displayName: null,
              bio: null,
              avatarMediaId,
              isPrivate: false,
            },
          },
        ]),
      );
    },
    async attached(id) {
      const { rows } = await sql<{
        attached: boolean;
      }>`SELECT attached_at IS NOT NULL AS attached FROM ${sql.table(`${database.schema}.media`)} WHERE id = ${id}`.execute(
        database.db,
      );
      return rows[0]?.attached;
    },
    async mediaRows() {
      const { rows } = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM ${sql.table(`${database.schema}.media`)}`.execute(database.db);
      return rows[0]?.n ?? 0;
    },
    async close() {
      await app.close();
      const deadline = Date.now() + 10_000;
      for (const worker of workers) await worker.stop(deadline);
      await instance.close?.();
      await eventLog.close();
      await stores.close();
      await opened.close();
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
