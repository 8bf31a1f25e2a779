import { assertEventPayload } from '@nova/contracts';
import { createKafkaEventLog } from '@nova/kafka';
import {
  type Config,
  type ConsumerSpec,
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
    async close() {
      await eventLog.close();
      await stores.close();
      await databases.close();
      await tracing?.shutdown();
    },
  };
}
