import type { Kysely, Transaction } from 'kysely';
import { FatalError, isTransient } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import { consumerSpanOptions, tracingEnabled, withSpan } from '../tracing/tracing.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from '../workers/retry.js';
import { sleep } from '../workers/sleep.js';
import { ConsumerFailures } from './consumer-failures.js';
import type { ConsumerMetrics } from './consumer-metrics.js';
import type { DeadLetterSink } from './dead-letters.js';
import { type ConsumerSpec, type EventRecord, type EventValidator, isBatchSpec } from './event-log.js';
import type { KernelTables } from './kernel-tables.js';

export const DEFAULT_CONSUMER_CONCURRENCY = 8;

/** What happened to one delivered event. */
export type DeliveryOutcome = 'processed' | 'duplicate' | 'dead-lettered' | 'skipped';

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
  /** Feeds the consumer worker's health (a group failing on every event is not ready). */
  readonly failures = new ConsumerFailures();

  constructor(private readonly options: ConsumerRuntimeOptions<DB>) {
    if (isBatchSpec(options.spec))
      throw new Error(
        `consumer ${options.spec.group}: batch handlers are not supported by this event log yet`,
      );
    this.group = options.spec.group;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.spec.retry };
    this.concurrency = isBatchSpec(options.spec)
      ? 1
      : (options.spec.concurrency ?? DEFAULT_CONSUMER_CONCURRENCY);
  }

  /** One event's delivery as a CONSUMER span continuing the producer's trace (ADR 014). */
  deliver(event: EventRecord): Promise<DeliveryOutcome> {
    if (!tracingEnabled()) return this.#deliver(event);
    return withSpan(
      `${event.topic} process`,
      {
        'messaging.system': 'nova',
        'messaging.operation.type': 'process',
        'messaging.destination.name': event.topic,
        'messaging.consumer.group.name': this.group,
        'messaging.message.id': event.id,
        'nova.event.type': event.type,
      },
      async (span) => {
        const outcome = await this.#deliver(event);
        span.setAttribute('nova.delivery.outcome', outcome);
        return outcome;
      },
      consumerSpanOptions([event]),
    );
  }

  async #deliver(event: EventRecord): Promise<DeliveryOutcome> {
    const { metrics, logger, signal, spec } = this.options;
    const labels = { group: this.group };
    if (spec.ignores?.(event.type)) {
      metrics.skipped.inc(labels);
      return 'skipped';
    }
    // Validated once per delivery, not per attempt: a contract violation never heals.
    const violation = this.#violation(event);
    for (let attempt = 1; ; attempt++) {
      const stopTimer = metrics.handlerSeconds.startTimer(labels);
      try {
        const fresh = await this.#attempt(event, attempt, violation);
        stopTimer();
        if (fresh) metrics.processed.inc(labels);
        this.failures.succeeded();
        return fresh ? 'processed' : 'duplicate';
      } catch (error) {
        stopTimer();
        this.failures.attemptFailed();
        const retry = isTransient(error) && attempt < this.policy.maxAttempts;
        if (!retry) {
          await this.#deadLetter(event, error, attempt);
          this.failures.deadLettered();
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

  /** The contract violation of the event's payload, if any, as the fatal error that dead-letters it. */
  #violation(event: EventRecord): FatalError | undefined {
    try {
      this.options.validate(event.type, event.payload);
      return undefined;
    } catch (error) {
      return new FatalError(
        `event ${event.type} ${event.id} breaks its contract: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  /** One attempt; false when the event was already processed by this group. */
  async #attempt(event: EventRecord, attempt: number, violation: FatalError | undefined): Promise<boolean> {
    const { spec, logger } = this.options;
    if (isBatchSpec(spec)) throw new Error(`${this.group} is a batch consumer: use deliverBatch`);
    return spec.database.transaction(async (tx) => {
      const kernel = tx as unknown as Transaction<KernelTables>;
      const marked = await kernel
        .insertInto('processed_events')
        .values({ group_id: this.group, event_id: event.id })
        .onConflict((oc) => oc.doNothing())
        .returning('event_id')
        .executeTakeFirst();
      // A redelivery of an event already processed (or dead-lettered) is skipped before its contract matters.
      if (!marked) return false;
      if (violation) throw violation;
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
