import { rm } from 'node:fs/promises';
import type { LightMyRequestResponse } from 'fastify';
import {
  type AnyApi,
  type BootContracts,
  type BootedModules,
  bootModules,
  createModuleRegistry,
  type EngineAdapters,
  type OwnedKernel,
} from '../boot/index.js';
import type { Config } from '../config/config.js';
import type { NovaApp } from '../http/index.js';
import { createLogger } from '../logging/index.js';
import type { ServiceInstance, ServiceModule } from '../module.js';
import { sleep } from '../workers/sleep.js';
import type { Worker } from '../workers/worker.js';
import { createPostgresTestDatabase, type DatabaseKind, testConfig, withDatabaseUrl } from './databases.js';
import { pgliteTemplate } from './pglite-template.js';
import { deleteRedisPrefix, privateRedisPrefix, TEST_REDIS_URL } from './redis.js';

export interface StartModulesOptions {
  /** The services to run in this process, as the app's registry lists them (dependencies are ordered first). */
  modules: readonly ServiceModule<unknown, never>[];
  /** What the app boots with from the contracts: `NOVA_CONTRACTS` of @nova/contracts. */
  contracts: BootContracts;
  /** An in-memory PGlite (default), or a fresh PostgreSQL database dropped by close(). */
  database?: DatabaseKind;
  /** Environment overrides, read as the process reads its environment (module settings included). */
  env?: Record<string, string>;
  /** Stores in the shared Redis under a private key prefix (removed by close()) instead of in-process. */
  redis?: boolean;
  /** Listen on a free port of 127.0.0.1 (default true); false: `inject` only, workers still run. */
  listen?: boolean;
  /** Start relays and workers (consumers, scheduled jobs); default true. */
  workers?: boolean;
  /** Stand-ins for the sync APIs of services not started here (e.g. the token verifier), by service. */
  provided?: Record<string, AnyApi>;
  /** Engine adapters, for a test of an engine's shape (e.g. { kafka: createKafkaEventLog }). */
  adapters?: EngineAdapters;
  /**
   * Resolve only once every backfilling consumer group follows the log (default true when
   * workers run). A group's first start records the log's end and reads the owner's snapshot;
   * a test that publishes before that point would see its events skipped in favour of a
   * stand-in's snapshot, which holds nothing. false: observe the backfill itself, or create
   * what it needs first (e.g. the producers' outboxes) and then call `waitForBackfills`.
   */
  awaitBackfills?: boolean;
}

export interface CallOptions {
  body?: unknown;
  /** Raw body sent as is (malformed JSON, huge payloads); content-type defaults to JSON. */
  raw?: string | Buffer;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  headers?: Record<string, string>;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers field by field
type JsonAnswer = any;

export interface CallResult {
  status: number;
  headers: Headers;
  /** The parsed JSON body; the text when it is not JSON; undefined when empty. */
  body: JsonAnswer;
}

export interface StartedModules {
  config: Config;
  app: NovaApp;
  kernel: OwnedKernel;
  services: Record<string, ServiceInstance>;
  /** Every sync API of the process, in-process bindings and provided ones, by service. */
  apis: Record<string, AnyApi>;
  /** `http://127.0.0.1:<port>` when listening. */
  baseUrl: string | undefined;
  /** The private REDIS_KEY_PREFIX with `redis: true`. */
  redisPrefix: string | undefined;
  /** Fastify's in-process request (no socket). */
  inject: NovaApp['inject'];
  /** One JSON request: over HTTP when listening, else injected. */
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  /** The booted process itself (lifecycle, workers). */
  booted: BootedModules;
  /** Stops the process as production does, then drops its database, data dir and Redis keys. */
  close(): Promise<void>;
}

/**
 * Starts `modules` on the production boot code (kernel, migrations, routes,
 * workers, lifecycle) in this process: what `nova start` runs for a target,
 * on a private database, so a service's tests keep no composition root.
 */
export async function startModules(options: StartModulesOptions): Promise<StartedModules> {
  const kind = options.database ?? 'pglite';
  const listen = options.listen ?? true;
  const redisPrefix = options.redis ? privateRedisPrefix('harness') : undefined;
  const env: Record<string, string> = {
    // `all` of a registry holding exactly these modules: the all-in-one shape (migrations, no gRPC port).
    NOVA_TARGET: 'all',
    HOST: '127.0.0.1',
    PORT: '0',
    ...(redisPrefix ? { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: redisPrefix } : {}),
    ...options.env,
  };
  let config = testConfig(env, options.modules);
  const postgres = kind === 'postgres' ? await createPostgresTestDatabase() : undefined;
  if (postgres) config = withDatabaseUrl(config, postgres.url);
  const cleanup = async () => {
    await postgres?.drop();
    await rm(config.dataDir, { recursive: true, force: true });
    if (redisPrefix) await deleteRedisPrefix(redisPrefix);
  };
  let booted: BootedModules;
  try {
    booted = await bootModules({
      config,
      logger: createLogger(config.logLevel),
      registry: createModuleRegistry(options.modules),
      contracts: options.contracts,
      // The private database starts empty, whatever the target (a split target does not migrate by default).
      migrate: true,
      ...(options.adapters ? { adapters: options.adapters } : {}),
      ...(options.provided ? { provided: options.provided } : {}),
      ...(kind === 'pglite' ? { pglite: { dataDir: 'memory://', loadDataDir: await pgliteTemplate() } } : {}),
    });
  } catch (error) {
    await cleanup();
    throw error;
  }
  let baseUrl: string | undefined;
  try {
    if (listen) baseUrl = await booted.start();
    else if (options.workers ?? true) await booted.startWorkers();
    if ((listen || (options.workers ?? true)) && (options.awaitBackfills ?? true))
      await waitForBackfills(booted.workers);
  } catch (error) {
    await booted.stop().catch(() => undefined);
    await cleanup();
    throw error;
  }
  const { app } = booted;

  const call = async (method: string, path: string, callOptions: CallOptions = {}): Promise<CallResult> => {
    const headers: Record<string, string> = { ...callOptions.headers };
    let body: string | Buffer | undefined;
    if (callOptions.raw !== undefined) body = callOptions.raw;
    else if (callOptions.body !== undefined) body = JSON.stringify(callOptions.body);
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    if (callOptions.token) headers.authorization = `Bearer ${callOptions.token}`;
    let status: number;
    let answerHeaders: Headers;
    let text: string;
    if (baseUrl) {
      const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
      status = response.status;
      answerHeaders = response.headers;
      text = await response.text();
    } else {
      const response: LightMyRequestResponse = await app.inject({
        method: method as 'GET',
        url: path,
        headers,
        ...(body !== undefined ? { payload: body } : {}),
      });
      status = response.statusCode;
      answerHeaders = new Headers();
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined)
          answerHeaders.set(name, Array.isArray(value) ? value.join(', ') : String(value));
      }
      text = response.body;
    }
    let parsed: unknown = text;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status, headers: answerHeaders, body: parsed };
  };

  let closed = false;
  return {
    config,
    app,
    kernel: booted.kernel,
    services: booted.services,
    apis: booted.apis,
    baseUrl,
    redisPrefix,
    inject: app.inject.bind(app) as NovaApp['inject'],
    call,
    booted,
    async close() {
      if (closed) return;
      closed = true;
      try {
        await booted.stop();
        // Not listening: the lifecycle has no HTTP step; the app's own close hooks still run.
        if (!baseUrl) await app.close();
      } finally {
        await cleanup();
      }
    },
  };
}

const BACKFILL_WAIT_MS = 30_000;

/**
 * Resolves once no consumer group is still building its read model from a snapshot (a
 * backfilling group reports its progress as `detail.backfill` until it consumes).
 */
export async function waitForBackfills(workers: readonly Worker[]): Promise<void> {
  const deadline = Date.now() + BACKFILL_WAIT_MS;
  for (;;) {
    const pending = workers.filter((w) => w.health().detail?.backfill !== undefined);
    if (pending.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `backfills unfinished after ${BACKFILL_WAIT_MS} ms: ${pending.map((w) => `${w.name} (${w.health().reason})`).join(', ')}`,
      );
    await sleep(10);
  }
}
