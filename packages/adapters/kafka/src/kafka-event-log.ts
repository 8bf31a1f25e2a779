import {
  type Config,
  type ConsumerSpec,
  type Database,
  type DatabaseProvider,
  type EventLog,
  type EventValidator,
  type Logger,
  type Worker,
  withBackfill,
} from '@nova/kernel';
import { type Admin, type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import { createKafkaClient } from './client.js';
import { type KafkaConsumerOptions, KafkaConsumerWorker } from './consumer.js';
import { kafkaGroupPositions } from './group-positions.js';
import { createOutboxRelay, type RelayOptions } from './relay.js';
import { createOutboxRetentionJob, type RetentionOptions } from './retention.js';
import { TopicManager } from './topics.js';

export interface KafkaEventLogOptions {
  /** `config.kafka` must be set (KAFKA_BROKERS). */
  config: Config;
  /** Accepted for parity with the embedded log; the Kafka log reaches databases through the specs. */
  provider?: DatabaseProvider;
  logger: Logger;
  metrics: Registry;
  /** Contract check for consumed payloads (publish-side checks happen in the outbox writer). */
  validate: EventValidator;
  /** Partitions of topics the log creates (default 3). */
  partitions?: number;
  relay?: RelayOptions;
  consumer?: KafkaConsumerOptions;
  /** Outbox retention when NOVA_OUTBOX_RELAY=external. */
  retention?: RetentionOptions;
}

export interface KafkaEventLog extends EventLog {
  readonly kind: 'kafka';
  readonly topics: TopicManager;
  readonly kafka: Kafka;
  admin(): Promise<Admin>;
  producer(): Promise<Producer>;
}

/** A lazily connected client that is connected once however many callers race for it. */
function lazy<T extends { connect(): Promise<void>; disconnect(): Promise<void> }>(create: () => T) {
  let current: Promise<T> | undefined;
  return {
    get(): Promise<T> {
      if (!current) {
        const client = create();
        const connecting = client.connect().then(() => client);
        current = connecting;
        // A failed connect is not cached: the next caller tries again.
        connecting.catch(() => {
          if (current === connecting) current = undefined;
        });
      }
      return current;
    },
    async reset(): Promise<void> {
      const old = current;
      current = undefined;
      if (old) await (await old.catch(() => undefined))?.disconnect().catch(() => undefined);
    },
  };
}

/**
 * The event log of the distributed shape: a topic per aggregate
 * (nova.<service>.<aggregate>.v1), key = aggregate id, the outbox relay as
 * the only producer of domain events, consumer groups whose offsets follow
 * the consumers' committed effects. See ADR 006.
 */
export function createKafkaEventLog(options: KafkaEventLogOptions): KafkaEventLog {
  const { config, logger, metrics } = options;
  if (!config.kafka) throw new TypeError('createKafkaEventLog needs config.kafka (KAFKA_BROKERS)');
  const kafkaConfig = config.kafka;
  const log = logger.child({ component: 'event-log', kind: 'kafka' });
  const kafka = createKafkaClient({
    brokers: kafkaConfig.brokers,
    clientId: kafkaConfig.clientId,
    logger: log,
  });
  const admin = lazy(() => kafka.admin());
  const producer = lazy(() =>
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      // Java-compatible murmur2 (kafkajs' default since 2.0), as Kafka Connect/Debezium partition.
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    }),
  );
  const topics = new TopicManager(() => admin.get(), options.partitions ?? 3);
  const positions = kafkaGroupPositions(() => admin.get(), topics);
  let closed = false;

  return {
    kind: 'kafka',
    topics,
    kafka,
    admin: () => admin.get(),
    producer: () => producer.get(),

    consumer<DB>(spec: ConsumerSpec<DB>): Worker {
      const consumer = new KafkaConsumerWorker(
        spec,
        {
          kafka,
          admin: () => admin.get(),
          producer: () => producer.get(),
          topics,
          logger: log,
          metrics,
          validate: options.validate,
        },
        options.consumer,
      );
      return withBackfill(spec, consumer, { positions, logger: log, metrics });
    },

    relay<DB>(database: Database<DB>): Worker {
      if (kafkaConfig.outboxRelay === 'external') {
        return createOutboxRetentionJob(database, { logger: log, metrics }, options.retention);
      }
      return createOutboxRelay(
        database,
        {
          producer: () => producer.get(),
          resetProducer: () => producer.reset(),
          topics,
          logger: log,
          metrics,
        },
        options.relay,
      );
    },

    async check(): Promise<void> {
      await (await admin.get()).describeCluster();
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await producer.reset();
      await admin.reset();
    },
  };
}
