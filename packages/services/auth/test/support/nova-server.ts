import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type AuthApi, assertEventPayload, authSyncApi } from '@nova/contracts';
import {
  API_PREFIX,
  bindInProcess,
  createEventLog,
  createFsBlobStore,
  createHealthRegistry,
  createHttpServer,
  createLogger,
  createMetricsRegistry,
  createOutboxWriter,
  createStores,
  type DatabaseProvider,
  type Kernel,
  type NovaApp,
  runMigrations,
} from '@nova/kernel';
import { type DatabaseKind, openTestDatabases } from '@nova/kernel/testing';
import { Redis } from 'ioredis';
import { authModule } from '../../src/index.js';

export const REDIS_URL = process.env.NOVA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The auth module on the real kernel pieces (database, stores, embedded event
 * log, HTTP server with the edge's auth) on a free port: what the app wires,
 * built here because services may not import the app.
 */
export interface AuthServer {
  url: string;
  mailDir: string;
  app: NovaApp;
  api: AuthApi;
  databases: DatabaseProvider;
  /** JSON request helper: returns status, headers and parsed body. */
  call(method: string, url: string, options?: CallOptions): Promise<CallResult>;
  /** The `token=` of the newest mail to `to` whose link path contains `pathPart`. */
  mailToken(to: string, pathPart: string, timeoutMs?: number): Promise<string>;
  /** Waits for at least `count` such mails; every token found, newest first. */
  mailTokens(to: string, pathPart: string, count: number, timeoutMs?: number): Promise<string[]>;
  /** Redis shape only: deletes every key of the security role (an empty Redis came back). */
  flushSecurityStore(): Promise<void>;
  close(): Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  /** Raw body sent as is (malformed JSON, huge payloads). */
  raw?: string | Buffer;
  token?: string;
  headers?: Record<string, string>;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers field by field
type JsonAnswer = any;

export interface CallResult {
  status: number;
  headers: Headers;
  body: JsonAnswer;
}

export interface AuthServerOptions {
  kind?: DatabaseKind;
  /** Security (and cache) store in Redis under a private prefix instead of in-process. */
  redis?: boolean;
  env?: Record<string, string>;
}

export async function startAuthServer(options: AuthServerOptions = {}): Promise<AuthServer> {
  const redisPrefix = `nova-test-auth-${randomUUID().slice(0, 8)}:`;
  const opened = await openTestDatabases(
    options.kind ?? 'pglite',
    {
      HOST: '127.0.0.1',
      PORT: '0',
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_TIME_COST: '1',
      // Every test signs up from 127.0.0.1; the registration throttle's own test sets its limit.
      REGISTER_MAX_PER_IP: '100000',
      ...(options.redis ? { REDIS_URL, REDIS_KEY_PREFIX: redisPrefix } : {}),
      ...options.env,
    },
    [authModule],
  );
  const { config, provider } = opened;
  const logger = createLogger('silent');
  const metrics = createMetricsRegistry();
  const health = createHealthRegistry();
  const stores = createStores(config, logger);
  const eventLog = createEventLog({ config, provider, logger, metrics, validate: assertEventPayload });
  const kernel: Kernel = {
    config,
    logger,
    metrics,
    databases: provider,
    stores: stores.stores,
    pubsub: stores.pubsub,
    eventLog,
    outbox: createOutboxWriter(assertEventPayload),
    health,
    blobs: createFsBlobStore(path.join(config.dataDir, 'media')),
  };
  const database = await provider.open('auth');
  await runMigrations(database, authModule.migrationsDir, logger);
  const instance = await authModule.init(kernel, {});
  const api = bindInProcess(authSyncApi, instance.api);
  const app = await createHttpServer({
    config,
    logger,
    metrics,
    health,
    getTokenVerifier: () => (token) => api.verifyToken({ token }),
  });
  const routes = instance.routes;
  if (routes?.root) await app.register(async (scope) => routes.root?.(scope as NovaApp));
  if (routes?.api)
    await app.register(async (scope) => routes.api?.(scope as NovaApp), { prefix: API_PREFIX });
  await app.ready();
  const workers = instance.workers ?? [];
  for (const worker of workers) await worker.start();
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const mailDir = path.join(config.dataDir, 'mail');

  const call = async (method: string, route: string, callOptions: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = { ...callOptions.headers };
    let body: string | Buffer | undefined;
    if (callOptions.raw !== undefined) {
      body = callOptions.raw;
      headers['content-type'] ??= 'application/json';
    } else if (callOptions.body !== undefined) {
      body = JSON.stringify(callOptions.body);
      headers['content-type'] ??= 'application/json';
    }
    if (callOptions.token) headers.authorization = `Bearer ${callOptions.token}`;
    const response = await fetch(`${url}${route}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed };
  };

  const readTokens = async (to: string, pathPart: string): Promise<string[]> => {
    let files: string[] = [];
    try {
      files = (await readdir(mailDir))
        .filter((f) => f.endsWith('.eml'))
        .sort()
        .reverse();
    } catch {
      return []; // no mail yet
    }
    const tokens: string[] = [];
    for (const file of files) {
      const mail = (await readFile(path.join(mailDir, file), 'utf8'))
        .replace(/=\r?\n/g, '')
        .replace(/=3D/g, '=');
      if (!mail.toLowerCase().includes(`to: ${to.toLowerCase()}`)) continue;
      const match = new RegExp(`${pathPart}\\?token=([A-Za-z0-9_-]+)`).exec(mail);
      if (match?.[1]) tokens.push(match[1]);
    }
    return tokens;
  };

  const mailTokens = async (to: string, pathPart: string, count: number, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const tokens = await readTokens(to, pathPart);
      if (tokens.length >= count) return tokens;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`fewer than ${count} ${pathPart} mails to ${to} within ${timeoutMs} ms`);
  };

  const mailToken = async (to: string, pathPart: string, timeoutMs = 10_000): Promise<string> => {
    const [newest] = await mailTokens(to, pathPart, 1, timeoutMs);
    if (!newest) throw new Error(`no ${pathPart} mail to ${to}`);
    return newest;
  };

  return {
    url,
    mailDir,
    app,
    api,
    databases: provider,
    call,
    mailToken,
    mailTokens,
    async flushSecurityStore() {
      if (!options.redis) throw new Error('flushSecurityStore needs the Redis shape');
      await deleteRedisPrefix(`${redisPrefix}security:`);
    },
    async close() {
      await app.close();
      const deadline = Date.now() + 10_000;
      await Promise.allSettled(workers.map((w) => w.stop(deadline)));
      await instance.close?.();
      await eventLog.close();
      await stores.close();
      await opened.close();
      if (options.redis) await deleteRedisPrefix(redisPrefix);
    },
  };
}

/** Removes every key under a test's private prefix. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
