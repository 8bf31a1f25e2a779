import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import type { DatabaseProvider } from '../db/database.js';
import type { Logger } from '../logging/logger.js';
import { createEmbeddedEventLog } from './embedded-log.js';
import type { EventLog, EventValidator } from './event-log.js';

export interface EventLogOptions {
  config: Config;
  provider: DatabaseProvider;
  logger: Logger;
  metrics: Registry;
  validate: EventValidator;
  pollIntervalMs?: number;
}

/**
 * An event-log engine adapter (packages/adapters/<engine>): builds the log
 * from the same options as the embedded one. The kernel knows the contract,
 * never the engine; the app passes the adapters the binary ships.
 */
export type EventLogEngine = (options: EventLogOptions) => EventLog;

export class MissingAdapterError extends Error {
  constructor(setting: string, adapter: string) {
    super(`${setting} is set, but this process was built without the ${adapter} adapter`);
    this.name = 'MissingAdapterError';
  }
}

/**
 * The process's event log, chosen by configuration: the injected Kafka
 * adapter when KAFKA_BROKERS is set, else the embedded log (the outbox
 * tables read by offset).
 */
export function createEventLog(options: EventLogOptions & { kafka?: EventLogEngine }): EventLog {
  const { kafka, ...rest } = options;
  if (rest.config.kafka) {
    if (!kafka) throw new MissingAdapterError('KAFKA_BROKERS', 'Kafka (@nova/kafka)');
    return kafka(rest);
  }
  return createEmbeddedEventLog({ retentionMs: rest.config.events.retentionMs, ...rest });
}
