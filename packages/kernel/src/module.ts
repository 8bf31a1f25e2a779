import type { Registry } from 'prom-client';
import type { BlobStore } from './blobs/blob-store.js';
import type { Config, RedisRole } from './config/config.js';
import type { ModuleConfig } from './config/module-config.js';
import type { Database, DatabaseProvider } from './db/database.js';
import type { EventLog, OutboxWriter } from './events/event-log.js';
import type { HealthRegistry } from './health/health-registry.js';
import type { NovaApp } from './http/app.js';
import type { Logger } from './logging/logger.js';
import type { Realtime } from './realtime/realtime.js';
import type { KeyValueStore } from './stores/key-value-store.js';
import type { PubSub } from './stores/pubsub.js';
import type { SyncApiDefinition } from './sync/definition.js';
import type { Worker } from './workers/worker.js';

/**
 * What the process gives every service module. A module takes from it only
 * what its own context needs (services/<name>/src/context.ts).
 */
export interface Kernel {
  config: Config;
  logger: Logger;
  metrics: Registry;
  databases: DatabaseProvider;
  stores: Record<RedisRole, KeyValueStore>;
  /** Publish/subscribe on the realtime role (sockets across processes). */
  pubsub: PubSub;
  /** The realtime socket: channels a service registers at init, and publish to users or rooms in any process. */
  realtime: Realtime;
  eventLog: EventLog;
  outbox: OutboxWriter;
  health: HealthRegistry;
  /** Media bytes: files under NOVA_DATA_DIR/media, or S3 when S3_BUCKET is set. */
  blobs: BlobStore;
}

export interface ServiceRoutes {
  /** Registered under the API prefix (/api/v1). */
  api?: (app: NovaApp) => void | Promise<void>;
  /** Registered at the root (e.g. /.well-known/jwks.json). */
  root?: (app: NovaApp) => void | Promise<void>;
}

export interface ServiceInstance<Api = unknown> {
  /**
   * The handlers of the module's sync API (its `syncApi` declared in
   * contracts); the registry binds them in-process or serves them over gRPC.
   */
  api: Api;
  routes?: ServiceRoutes;
  workers?: Worker[];
  /** Releases what init acquired beyond the kernel's resources. */
  close?(): Promise<void>;
}

/** What `nova seed` asks for; every module derives its rows from the same numbers. */
export interface SeedOptions {
  users: number;
  follows: number;
  seed: number;
  /** Posts over the 90 days before `postsEndMs` (@nova/contracts/seed generatePosts). */
  posts: number;
  /** The newest seeded post's instant, fixed once per `nova seed` so every module derives the same posts. */
  postsEndMs: number;
}

export interface SeedProgress {
  update(done: number, total?: number): void;
  done(): void;
}

export interface SeedResult {
  /** What was loaded, e.g. `1000 accounts`. */
  summary: string;
  /** Something the operator must know, e.g. the shared password. */
  note?: string;
}

/** What a module's seed hook gets: its own migrated database and nothing of other services. */
export interface SeedContext {
  config: Config;
  logger: Logger;
  database: Database<unknown>;
  options: SeedOptions;
  /** A progress bar for one phase of the load. */
  progress(phase: string, total: number): SeedProgress;
}

/**
 * A service as the module registry sees it (apps/nova/src/modules.ts):
 * a name, the services whose sync APIs it needs, its own configuration, an
 * init, and optionally a bulk seed. Adding a service is its package plus one
 * line in the registry; the kernel names no service.
 */
export interface ServiceModule<Api = unknown, Deps = Record<string, unknown>> {
  name: string;
  /**
   * The services whose sync APIs this module calls. Not "runs in my process":
   * each resolves to the in-process instance when the target includes it, else
   * to a gRPC client of NOVA_<SERVICE>_URL; `deps` of init holds the clients.
   */
  dependsOn: readonly string[];
  /**
   * Services whose sync APIs this module uses when it can and does without
   * otherwise (a documented fallback): in-process when the target runs them, a
   * gRPC client when NOVA_<SERVICE>_URL is set, else absent from `deps`.
   */
  optionalDependsOn?: readonly string[];
  /** The sync API this module serves (declared once in @nova/contracts). */
  syncApi?: SyncApiDefinition;
  /** Absolute path of the service's forward-only SQL migrations (run by `nova migrate`). */
  migrationsDir: string;
  /** The service's env keys (its `src/config.ts`); read only when the target runs it. */
  // biome-ignore lint/suspicious/noExplicitAny: each module's schema and settings types differ
  config?: ModuleConfig<any, unknown>;
  init(kernel: Kernel, deps: Deps): Promise<ServiceInstance<Api>>;
  /**
   * `nova seed`: bulk-loads the service's share of the deterministic
   * population, offline (no events); resolves to what it loaded.
   */
  seed?(context: SeedContext): Promise<SeedResult>;
}
