import { type Kysely, sql, type Transaction } from 'kysely';
import { FatalError, isTransient } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import { consumerSpanOptions, tracingEnabled, withSpan } from '../tracing/tracing.js';
import { backoffDelay, DEFAULT_RETRY_POLICY, type RetryPolicy } from '../workers/retry.js';
import { sleep } from '../workers/sleep.js';
import { ConsumerFailures } from './consumer-failures.js';
import type { ConsumerMetrics } from './consumer-metrics.js';
import type { DeadLetterSink } from './dead-letters.js';
import {
  type BatchConsumerSpec,
  type BatchOptions,
  type ConsumerSpec,
  type EventRecord,
  type EventValidator,
  isBatchSpec,
} from './event-log.js';
import type { KernelTables } from './kernel-tables.js';
import type { KeyPositions } from './key-positions.js';

export const DEFAULT_CONSUMER_CONCURRENCY = 8;
export const DEFAULT_BATCH: Required<BatchOptions> = { maxEvents: 500, maxWaitMs: 20, inFlight: 4 };

/** How a log takes part in a batch's transaction (the embedded log checkpoints there). */
export interface BatchHooks {
  /**
   * Runs last inside each committed (sub-)batch transaction, with the last
   * event of that (sub-)batch: everything up to it is then durable, since
   * sub-batches run in log order.
   */
  inTransaction?(tx: Transaction<KernelTables>, last: EventRecord): Promise<void>;
  /** After that transaction committed. */
  committed?(last: EventRecord): void;
  /**
   * The log recognises redeliveries by position (ADR 039): no processed-event
   * row per event, only per-slot positions written with the effects.
   */
  positions?: KeyPositions;
}

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
  /** Batch mode's bounds; undefined for a per-event consumer. */
  readonly batch: Required<BatchOptions> | undefined;

  constructor(private readonly options: ConsumerRuntimeOptions<DB>) {
    this.group = options.spec.group;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.spec.retry };
    this.concurrency = isBatchSpec(options.spec)
      ? 1
      : (options.spec.concurrency ?? DEFAULT_CONSUMER_CONCURRENCY);
    this.batch = isBatchSpec(options.spec) ? { ...DEFAULT_BATCH, ...options.spec.batch } : undefined;
    if (this.batch && (!Number.isInteger(this.batch.maxEvents) || this.batch.maxEvents < 1))
      throw new RangeError(`consumer ${this.group}: batch.maxEvents must be a positive integer`);
    if (this.batch && (!Number.isInteger(this.batch.inFlight) || this.batch.inFlight < 1))
      throw new RangeError(`consumer ${this.group}: batch.inFlight must be a positive integer`);
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

  /**
   * Batch mode: resolves once the outcome of every event of `events` (in log
   * order) is durable, like `deliver` for one. Ignored types are skipped and
   * contract violations dead-lettered first (each payload validated once);
   * the rest run through #settle: one transaction for the whole batch, in
   * which redelivered events are left out — by position when the log passes
   * `hooks.positions` (ADR 039), else by processed_events taking every id in
   * one statement — the handler applies the effects and the log's hook may
   * checkpoint.
   */
  deliverBatch(events: readonly EventRecord[], hooks: BatchHooks = {}): Promise<void> {
    if (!tracingEnabled() || events.length === 0) return this.#deliverBatch(events, hooks);
    // One CONSUMER span per batch, linked to every producer's trace (ADR 014).
    return withSpan(
      `${events[0]?.topic} process`,
      {
        'messaging.system': 'nova',
        'messaging.operation.type': 'process',
        'messaging.destination.name': events[0]?.topic ?? '',
        'messaging.consumer.group.name': this.group,
        'messaging.batch.message_count': events.length,
        'nova.event.types': [...new Set(events.map((e) => e.type))].join(','),
      },
      () => this.#deliverBatch(events, hooks),
      consumerSpanOptions(events),
    );
  }

  async #deliverBatch(events: readonly EventRecord[], hooks: BatchHooks): Promise<void> {
    const { spec, metrics } = this.options;
    if (!isBatchSpec(spec)) throw new Error(`${this.group} is a per-event consumer: use deliver`);
    const labels = { group: this.group };
    const work: EventRecord[] = [];
    for (const event of events) {
      if (spec.ignores?.(event.type)) {
        metrics.skipped.inc(labels);
        continue;
      }
      const violation = this.#violation(event);
      if (violation) {
        await this.#deadLetter(event, violation, 1);
        this.failures.deadLettered();
      } else work.push(event);
    }
    if (work.length > 0) await this.#settle(spec, work, hooks, this.policy.maxAttempts);
  }

  /**
   * Applies `events` in one transaction, retrying transient failures up to
   * `attempts`. A batch that still fails is split in halves, applied in
   * order with one attempt each, down to single events, which get the full
   * retry policy and then the dead letters: a poison event costs O(log n)
   * extra transactions and takes none of its neighbours with it, and no
   * event is applied twice (each sub-batch commits or rolls back whole).
   */
  async #settle(
    spec: BatchConsumerSpec<DB>,
    events: readonly EventRecord[],
    hooks: BatchHooks,
    attempts: number,
  ): Promise<void> {
    const { metrics, logger, signal } = this.options;
    const labels = { group: this.group };
    const first = events[0] as EventRecord;
    for (let attempt = 1; ; attempt++) {
      const stopTimer = metrics.handlerSeconds.startTimer(labels);
      try {
        const fresh = await this.#attemptBatch(spec, events, attempt, hooks);
        stopTimer();
        metrics.processed.inc(labels, fresh);
        this.failures.succeeded();
        hooks.committed?.(events[events.length - 1] as EventRecord);
        return;
      } catch (error) {
        stopTimer();
        this.failures.attemptFailed();
        if (isTransient(error) && attempt < attempts) {
          metrics.retried.inc(labels);
          const delay = backoffDelay(this.policy, attempt);
          logger.warn(
            {
              group: this.group,
              events: events.length,
              firstEventId: first.id,
              attempt,
              delayMs: delay,
              err: error,
            },
            'batch handler failed; retrying',
          );
          if (!(await sleep(delay, signal))) throw new DeliveryAbandonedError(first);
          continue;
        }
        if (events.length === 1) {
          await this.#deadLetter(first, error, attempt);
          this.failures.deadLettered();
          return;
        }
        if (signal.aborted) throw new DeliveryAbandonedError(first);
        logger.warn(
          { group: this.group, events: events.length, firstEventId: first.id, attempt, err: error },
          'batch failed; splitting it to isolate the failing event',
        );
        // A single event reached by splitting gets the retries a lone event gets.
        const half = Math.ceil(events.length / 2);
        for (const part of [events.slice(0, half), events.slice(half)])
          await this.#settle(spec, part, hooks, part.length === 1 ? this.policy.maxAttempts : 1);
        return;
      }
    }
  }

  /** One transaction for `events`; resolves with how many were new to this group. */
  async #attemptBatch(
    spec: BatchConsumerSpec<DB>,
    events: readonly EventRecord[],
    attempt: number,
    hooks: BatchHooks,
  ): Promise<number> {
    return spec.database.transaction(async (tx) => {
      const kernel = tx as unknown as Transaction<KernelTables>;
      const fresh = hooks.positions
        ? await hooks.positions.unapplied(kernel, events)
        : await this.#markProcessed(kernel, events);
      if (fresh.length > 0) {
        const log = this.options.logger.child({ group: this.group, events: fresh.length, attempt });
        await spec.handleBatch(fresh, { tx: tx as Transaction<DB>, attempt, log });
      }
      await hooks.positions?.record(kernel, events);
      await hooks.inTransaction?.(kernel, events[events.length - 1] as EventRecord);
      return fresh.length;
    });
  }

  /** processed_events takes every id in one statement; redelivered ids come back as conflicts. */
  async #markProcessed(
    tx: Transaction<KernelTables>,
    events: readonly EventRecord[],
  ): Promise<EventRecord[]> {
    const ids = events.map((e) => e.id);
    const marked = await sql<{ event_id: string }>`
      insert into ${sql.table(`${this.options.spec.database.schema}.processed_events`)} (group_id, event_id)
      select ${this.group}, id from unnest(${ids}::uuid[]) as id
      on conflict do nothing
      returning event_id`.execute(tx);
    const freshIds = new Set(marked.rows.map((r) => r.event_id));
    // A log may carry one event twice (a relay retry): only its first copy is fresh.
    return events.filter((e) => freshIds.delete(e.id));
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
