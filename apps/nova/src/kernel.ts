import { assertEventPayload } from '@nova/contracts';
import { createKafkaEventLog } from '@nova/kafka';
import {
  type Config,
  type ConsumerSpec,
  createBlobStore,
  createDatabaseProvider,
  createEventLog,
  createHealthRegistry,
  createMetricsRegistry,
  createOutboxWriter,
  createStores,
  type Kernel,
  type Logger,
  startTracing,
} from '@nova/kernel';
import { createS3BlobStore } from '@nova/s3';

export interface OwnedKernel extends Kernel {
  /** Every consumer group the modules defined, by name (operator commands redrive through them). */
  readonly consumers: ReadonlyMap<string, ConsumerSpec<unknown>>;
  /** Closes what the kernel opened: event log, stores, pools — in that order. */
  close(): Promise<void>;
}

/** Builds the shared infrastructure of one process from its configuration. */
export function createKernel(config: Config, logger: Logger): OwnedKernel {
  // First: spans of everything below (SQL, outbox, consumers) need it (ADR 014).
  const tracing = config.tracing
    ? startTracing({ ...config.tracing, attributes: { 'nova.target': config.target } }, logger)
    : undefined;
  const metrics = createMetricsRegistry();
  const health = createHealthRegistry();
  const databases = createDatabaseProvider({ config, logger: logger.child({ component: 'db' }) });
  const stores = createStores(config, logger.child({ component: 'stores' }));
  for (const check of stores.healthChecks) health.register(check);
  const validate = assertEventPayload;
  const eventLog = createEventLog({
    config,
    provider: databases,
    logger: logger.child({ component: 'events' }),
    metrics,
    validate,
    // Engine adapters this binary ships; configuration picks one.
    kafka: createKafkaEventLog,
  });
  // Engine adapters this binary ships for media bytes; S3_BUCKET picks S3.
  const blobs = createBlobStore({
    config,
    logger: logger.child({ component: 'blobs' }),
    s3: createS3BlobStore,
  });
  if (blobs.check)
    health.register({ name: `blobs-${blobs.kind}`, required: true, check: blobs.check.bind(blobs) });
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
    eventLog,
    consumers,
    outbox: createOutboxWriter(validate),
    health,
    blobs,
    async close() {
      await eventLog.close();
      await blobs.close?.();
      await stores.close();
      await databases.close();
      await tracing?.shutdown();
    },
  };
}
