import type { Logger } from '@nova/kernel';
import { Kafka, type LogEntry, logLevel } from 'kafkajs';

export interface KafkaClientOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Per-request timeout; kafkajs' default (30 s) is kept unless a test shortens it. */
  requestTimeoutMs?: number;
}

/**
 * One kafkajs client per event log, logging through the process's pino
 * logger. kafkajs logs every retried request at ERROR while it reconnects
 * (a broker restart, a rebalance); those are expected, so they go out as
 * warnings and the Nova layer above reports what actually failed.
 */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  const log = options.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    requestTimeout: options.requestTimeoutMs ?? 30_000,
    // Reconnects with backoff for about a minute before an operation fails;
    // Nova's workers retry beyond that with the kernel retry policy.
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ namespace, level, log: entry }: LogEntry) => {
        const { message, timestamp: _timestamp, ...extra } = entry;
        const fields = { namespace, ...extra };
        if (level === logLevel.DEBUG) log.debug(fields, message);
        else if (level === logLevel.INFO) log.info(fields, message);
        else log.warn(fields, message);
      },
  });
}
