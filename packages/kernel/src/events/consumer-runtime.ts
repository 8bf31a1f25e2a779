import type { Kysely, Transaction } from 'kysely';
import { FatalError, isTransient } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from '../workers/retry.js';
import { sleep } from '../workers/sleep.js';
import type { ConsumerMetrics } from './consumer-metrics.js';
import type { DeadLetterSink } from './dead-letters.js';
import type { ConsumerSpec, EventRecord, EventValidator } from './event-log.js';
import type { KernelTables } from './kernel-tables.js';

export const DEFAULT_CONSUMER_CONCURRENCY = 8;

/** What happened to one delivered event. */
export type DeliveryOutcome = 'processed' | 'duplicate' | 'dead-lettered';

/** The delivery was given up because the consumer is stopping; it will be redelivered. */
export class DeliveryAbandonedError extends Error {
  constructor(readonly event: EventRecord) {
    super(`delivery of event ${event.id} abandoned by shutdown`);
    this.name = 'DeliveryAbandonedError';
  }
}

export interface ConsumerRuntimeOptions<DB> {
  spec: ConsumerSpec<DB>;
  validate: EventValidator;
  deadLetters: DeadLetterSink;
  metrics: ConsumerMetrics;
  logger: Logger;
  /** Aborting cuts retry back-off short: the delivery rejects with DeliveryAbandonedError. */
  signal: AbortSignal;
}

/**
 * Exactly-once effects for one consumer group, shared by every event log.
 * A log only fetches, orders (KeyedLanes) and checkpoints; `deliver` does
 * the rest. In ONE transaction on the consumer's database it records
 * (group, event id) in processed_events — an existing record means a
 * redelivery and the event is skipped — validates the payload against its
 * contract and runs the handler; the commit makes effects and record durable
 * together. Transient failures are retried with the kernel back-off until
 * the attempt limit; fatal ones (and exhausted retries) go to the sink.
 *
 * `deliver` resolves once the event's outcome is durable, so a log may
 * checkpoint past it; it rejects only when the outcome is not durable
 * (DeliveryAbandonedError on shutdown, or the sink failing), and then the
 * log must not checkpoint past the event.
 */
export class ConsumerRuntime<DB> {
  readonly group: string;
  readonly policy: RetryPolicy;
  readonly concurrency: number;

  constructor(private readonly options: ConsumerRuntimeOptions<DB>) {
    this.group = options.spec.group;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.spec.retry };
    this.concurrency = options.spec.concurrency ?? DEFAULT_CONSUMER_CONCURRENCY;
  }

  async deliver(event: EventRecord): Promise<DeliveryOutcome> {
    const { metrics, logger, signal } = this.options;
    const labels = { group: this.group };
    for (let attempt = 1; ; attempt++) {
      const stopTimer = metrics.handlerSeconds.startTimer(labels);
      try {
        const fresh = await this.#attempt(event, attempt);
        stopTimer();
        if (fresh) metrics.processed.inc(labels);
        return fresh ? 'processed' : 'duplicate';
      } catch (error) {
        stopTimer();
        const retry = isTransient(error) && attempt < this.policy.maxAttempts;
        if (!retry) {
          await this.#deadLetter(event, error, attempt);
          return 'dead-lettered';
        }
        metrics.retried.inc(labels);
        const delay = backoffDelay(this.policy, attempt);
        logger.warn(
          { group: this.group, eventId: event.id, type: event.type, attempt, delayMs: delay, err: error },
          'event handler failed; retrying',
        );
        if (!(await sleep(delay, signal))) throw new DeliveryAbandonedError(event);
      }
    }
  }

  /** One attempt; false when the event was already processed by this group. */
  async #attempt(event: EventRecord, attempt: number): Promise<boolean> {
    const { spec, validate, logger } = this.options;
    return spec.database.transaction(async (tx) => {
      const kernel = tx as unknown as Transaction<KernelTables>;
      const marked = await kernel
        .insertInto('processed_events')
        .values({ group_id: this.group, event_id: event.id })
        .onConflict((oc) => oc.doNothing())
        .returning('event_id')
        .executeTakeFirst();
      if (!marked) return false;
      try {
        validate(event.type, event.payload);
      } catch (error) {
        throw new FatalError(
          `event ${event.type} ${event.id} breaks its contract: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      const log = logger.child({ group: this.group, eventId: event.id, type: event.type, attempt });
      await spec.handle(event, { tx: tx as Transaction<DB>, attempt, log });
      return true;
    });
  }

  async #deadLetter(event: EventRecord, error: unknown, attempts: number): Promise<void> {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.options.logger.error(
      { group: this.group, eventId: event.id, type: event.type, attempts, err: error },
      'event dead-lettered',
    );
    await this.options.deadLetters({ group: this.group, event, reason, attempts });
    this.options.metrics.deadLettered.inc({ group: this.group });
  }
}

/** Narrow helper for logs that read kernel tables through a service Database. */
export const kernelTables = <DB>(db: Kysely<DB>): Kysely<KernelTables> =>
  db as unknown as Kysely<KernelTables>;
