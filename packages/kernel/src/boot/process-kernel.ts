import { type BlobStoreEngine, createBlobStore } from '../blobs/index.js';
import type { Config } from '../config/config.js';
import { createDatabaseProvider, type DatabaseProviderOptions } from '../db/provider.js';
import {
  type ConsumerSpec,
  createEventLog,
  createOutboxWriter,
  type EventLogEngine,
  type EventValidator,
} from '../events/index.js';
import { createHealthRegistry } from '../health/index.js';
import type { Logger } from '../logging/index.js';
import { createMetricsRegistry } from '../metrics/index.js';
import type { Kernel } from '../module.js';
import { createRealtime, type RealtimeHub } from '../realtime/index.js';
import { createStores } from '../stores/index.js';
import { startTracing } from '../tracing/index.js';

export interface OwnedKernel extends Kernel {
  /** Every consumer group the modules defined, by name (operator commands redrive through them). */
  readonly consumers: ReadonlyMap<string, ConsumerSpec<unknown>>;
  /** The realtime hub: the socket route attaches upgraded sockets to it. */
  realtime: RealtimeHub;
  /** Closes what the kernel opened: event log, stores, pools — in that order. */
  close(): Promise<void>;
}

/** The engine adapters a binary ships (packages/adapters/*); configuration picks one. */
export interface EngineAdapters {
  kafka?: EventLogEngine;
  s3?: BlobStoreEngine;
}

export interface ProcessKernelOptions {
  /** Checks every event against its contract (the app passes @nova/contracts' validator). */
  validate: EventValidator;
  adapters?: EngineAdapters;
  /** Embedded database tuning (tests: an in-memory PGlite from a template). */
  pglite?: DatabaseProviderOptions['pglite'];
}

/** Builds the shared infrastructure of one process from its configuration. */
export function createProcessKernel(
  config: Config,
  logger: Logger,
  options: ProcessKernelOptions,
): OwnedKernel {
  // First: spans of everything below (SQL, outbox, consumers) need it (ADR 014).
  const tracing = config.tracing
    ? startTracing({ ...config.tracing, attributes: { 'nova.target': config.target } }, logger)
    : undefined;
  const metrics = createMetricsRegistry();
  const health = createHealthRegistry();
  const databases = createDatabaseProvider({
    config,
    logger: logger.child({ component: 'db' }),
    ...(options.pglite ? { pglite: options.pglite } : {}),
  });
  const stores = createStores(config, logger.child({ component: 'stores' }));
  for (const check of stores.healthChecks) health.register(check);
  const { validate } = options;
  const eventLog = createEventLog({
    config,
    provider: databases,
    logger: logger.child({ component: 'events' }),
    metrics,
    validate,
    ...(options.adapters?.kafka ? { kafka: options.adapters.kafka } : {}),
  });
  // Media bytes: files under the data dir, or the S3 adapter the binary ships when S3_BUCKET is set.
  const blobs = createBlobStore({
    config,
    logger: logger.child({ component: 'blobs' }),
    ...(options.adapters?.s3 ? { s3: options.adapters.s3 } : {}),
  });
  if (blobs.check)
    health.register({ name: `blobs-${blobs.kind}`, required: true, check: blobs.check.bind(blobs) });
  const realtime = createRealtime({
    settings: config.realtime,
    pubsub: stores.pubsub,
    store: stores.stores.realtime,
    logger: logger.child({ component: 'realtime' }),
    metrics,
  });
  const consumers = new Map<string, ConsumerSpec<unknown>>();
  const createConsumer = eventLog.consumer.bind(eventLog);
  eventLog.consumer = (spec) => {
    // Two handlers under one group name would split its events between them.
    if (consumers.has(spec.group)) throw new Error(`consumer group "${spec.group}" is defined twice`);
    consumers.set(spec.group, spec as ConsumerSpec<unknown>);
    return createConsumer(spec);
  };
  if (eventLog.check) {
    const check = eventLog.check.bind(eventLog);
    health.register({ name: eventLog.kind, required: true, check });
  }
  return {
    config,
    logger,
    metrics,
    databases,
    stores: stores.stores,
    pubsub: stores.pubsub,
    realtime,
    eventLog,
    consumers,
    outbox: createOutboxWriter(validate),
    health,
    blobs,
    async close() {
      await eventLog.close();
      await blobs.close?.();
      await realtime.close();
      await stores.close();
      await databases.close();
      await tracing?.shutdown();
    },
  };
}
