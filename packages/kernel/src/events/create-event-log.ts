import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { DatabaseProvider } from '../db/database.js';
import type { Logger } from '../logging/logger.js';
import { createEmbeddedEventLog } from './embedded-log.js';
import type { EventLog, EventValidator } from './event-log.js';
import { createKafkaEventLog } from './kafka/kafka-event-log.js';

export interface EventLogOptions {
  config: Config;
  provider: DatabaseProvider;
  logger: Logger;
  metrics: Registry;
  validate: EventValidator;
  pollIntervalMs?: number;
}

/** The process's event log, chosen by configuration: Kafka when KAFKA_BROKERS is set. */
export function createEventLog(options: EventLogOptions): EventLog {
  if (options.config.kafka) return createKafkaEventLog(options);
  return createEmbeddedEventLog({ retentionMs: options.config.events.retentionMs, ...options });
}
