import type { Registry } from 'prom-client';
import type { Config, RedisRole } from './config/config.js';
import type { DatabaseProvider } from './db/database.js';
import type { EventLog, OutboxWriter } from './events/event-log.js';
import type { HealthRegistry } from './health/health-registry.js';
import type { NovaApp } from './http/app.js';
import type { Logger } from './logging/logger.js';
import type { KeyValueStore } from './stores/key-value-store.js';
import type { PubSub } from './stores/pubsub.js';
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
  eventLog: EventLog;
  outbox: OutboxWriter;
  health: HealthRegistry;
}

export interface ServiceRoutes {
  /** Registered under the API prefix (/api/v1). */
  api?: (app: NovaApp) => void | Promise<void>;
  /** Registered at the root (e.g. /.well-known/jwks.json). */
  root?: (app: NovaApp) => void | Promise<void>;
}

export interface ServiceInstance<Api = unknown> {
  /** The batch-first sync API other services may call (see contracts). */
  api: Api;
  routes?: ServiceRoutes;
  workers?: Worker[];
  /** Releases what init acquired beyond the kernel's resources. */
  close?(): Promise<void>;
}

/**
 * A service as the module registry sees it (apps/nova/src/modules.ts):
 * a name, the services whose sync APIs it needs, and an init.
 */
export interface ServiceModule<Api = unknown, Deps = Record<string, unknown>> {
  name: string;
  dependsOn: readonly string[];
  /** Absolute path of the service's forward-only SQL migrations (run by `nova migrate`). */
  migrationsDir: string;
  init(kernel: Kernel, deps: Deps): Promise<ServiceInstance<Api>>;
}
