import type { Kysely, QueryResult, RawBuilder, Transaction } from 'kysely';
import type { Database } from '../db/database.js';
import type { Logger } from '../logging/logger.js';
import type { RetryPolicy } from '../workers/retry.js';
import type { Worker } from '../workers/worker.js';
import type { BackfillSpec } from './backfill.js';

/**
 * One event as consumers see it, whichever log carries it (the embedded
 * outbox log or Kafka). Field names follow the Debezium outbox layout.
 */
export interface EventRecord<P = unknown> {
  /** Event id (outbox row id, uuid). Idempotency key for consumers. */
  id: string;
  /** nova.<service>.<aggregate>.v1 */
  topic: string;
  /** Aggregate id: events with one key are delivered in order. */
  key: string;
  /** e.g. "user.registered" */
  type: string;
  payload: P;
  /** ISO 8601 UTC, when the producing transaction wrote it. */
  timestamp: string;
  /** W3C traceparent of the producing span, when it was traced (ADR 014). */
  traceparent?: string;
}

/** What a service writes to its outbox inside its business transaction. */
export interface OutboxEvent<P = unknown> {
  /** "<service>.<aggregate>", e.g. "auth.user"; the topic is nova.<aggregateType>.v1 */
  aggregateType: string;
  aggregateId: string;
  type: string;
  payload: P;
}

/**
 * Writes events to the calling service's outbox table in the caller's
 * transaction (the schema comes from the transaction's Kysely instance).
 * Payloads are validated against their contracts here, before commit.
 * It takes no lock; concurrent writers do not wait for each other (ADR 013).
 */
export interface OutboxWriter {
  write<DB>(tx: Transaction<DB>, events: readonly OutboxEvent[]): Promise<void>;
  /**
   * Writes events within the caller's own statement, so a change and its
   * events are one round trip (and need no transaction: one statement is
   * atomic). `build` gets the outbox's CTEs, to be placed after the caller's
   * CTEs in its WITH list, and returns the whole statement. With `onlyIf`
   * (the name of one of the caller's CTEs) the events are written only if
   * that CTE has a row, e.g. a conditional UPDATE … RETURNING. The statement
   * runs without `db`'s plugins (executeRaw): every table in it must be
   * schema-qualified (tableRefs).
   */
  writeWithin<DB, R>(
    db: Kysely<DB>,
    events: readonly OutboxEvent[],
    build: (outbox: RawBuilder<unknown>) => RawBuilder<R>,
    options?: { onlyIf?: string },
  ): Promise<QueryResult<R>>;
}

/** Validates an event payload against its contract; throws on a violation. */
export type EventValidator = (type: string, payload: unknown) => void;

export interface ConsumeContext<DB> {
  /** The consumer's own transaction: effects and the processed-event record commit together. */
  tx: Transaction<DB>;
  attempt: number;
  log: Logger;
}

interface ConsumerSpecBase<DB> {
  /** Consumer group, unique per handler: "<service>.<purpose>", e.g. "auth.mailer". */
  group: string;
  topics: string[];
  /** The consuming service's database (holds its checkpoints, processed events, dead letters). */
  database: Database<DB>;
  /**
   * Event types of the subscribed topics the consumer deliberately does not
   * handle: they pass without a transaction (nova_consumer_events_skipped_total).
   */
  ignores?(type: string): boolean;
  retry?: Partial<RetryPolicy>;
  /**
   * Builds the read model from the owning service's state when the group
   * starts without a checkpoint, then follows the log from the position
   * recorded before that read (ADR 018). Its handlers must be idempotent.
   */
  backfill?: BackfillSpec<DB>;
}

/** One event per transaction. */
export interface EventConsumerSpec<DB> extends ConsumerSpecBase<DB> {
  /** Applies the event's effects in ctx.tx. Throw to retry (transient) or dead-letter (fatal). */
  handle(event: EventRecord, ctx: ConsumeContext<DB>): Promise<void>;
  /** Events processed in parallel (distinct keys; per-key order is kept). Default 8. */
  concurrency?: number;
  handleBatch?: never;
  batch?: never;
}

export interface BatchOptions {
  /** Most events handed to one handleBatch call (default 500). */
  maxEvents?: number;
  /** How long a batch may wait to fill once its first event is there (default 20 ms). */
  maxWaitMs?: number;
  /**
   * Batch transactions a topic (embedded log) or a partition (Kafka) runs at
   * once (default 4). A read of up to maxEvents × inFlight events is split
   * by a hash of the key, so one key's events stay in one transaction
   * sequence, in order; the next read overlaps the transactions. 1 = one
   * batch at a time and no read-ahead (ADR 012's pipeline). See ADR 019.
   */
  inFlight?: number;
}

/**
 * Up to `batch.maxEvents` events per transaction: effects, processed-event
 * records (and on the embedded log the checkpoint) commit once per batch.
 * See ADR 012 for the retry / bisect / dead-letter rules.
 */
export interface BatchConsumerSpec<DB> extends ConsumerSpecBase<DB> {
  /**
   * Applies the effects of `events` (in log order; one key's events keep
   * their order) in ctx.tx. Already processed and ignored events are left
   * out. Throw to retry the batch; a batch that keeps failing is split to
   * find the event that fails, which is dead-lettered alone.
   */
  handleBatch(events: readonly EventRecord[], ctx: ConsumeContext<DB>): Promise<void>;
  batch?: BatchOptions;
  handle?: never;
  concurrency?: never;
}

export type ConsumerSpec<DB> = EventConsumerSpec<DB> | BatchConsumerSpec<DB>;

export const isBatchSpec = <DB>(spec: ConsumerSpec<DB>): spec is BatchConsumerSpec<DB> =>
  typeof spec.handleBatch === 'function';

export interface EventLog {
  readonly kind: 'embedded' | 'kafka';
  /** A consumer-group worker; start it with the lifecycle. */
  consumer<DB>(spec: ConsumerSpec<DB>): Worker;
  /**
   * The relay (CDC step) for a service's outbox: Kafka publishes committed
   * rows and prunes them after the ack; the embedded log needs none (null).
   */
  relay<DB>(database: Database<DB>): Worker | null;
  /** Reachability of the log's infrastructure for /health/ready (the embedded log has none of its own). */
  check?(): Promise<void>;
  close(): Promise<void>;
}

export const topicFor = (aggregateType: string): string => `nova.${aggregateType}.v1`;
export const deadLetterTopicFor = (group: string): string => `nova.dlq.${group}`;
