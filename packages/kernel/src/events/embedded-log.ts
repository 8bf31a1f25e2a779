import { type Kysely, sql } from 'kysely';
import type { Registry } from 'prom-client';
import type { Database, DatabaseProvider } from '../db/database.js';
import type { Logger } from '../logging/logger.js';
import { sleep } from '../workers/sleep.js';
import type { Worker, WorkerHealth } from '../workers/worker.js';
import { worstHealth } from '../workers/worker-health.js';
import { withBackfill } from './backfilling-consumer.js';
import { type ConsumerMetrics, consumerMetrics } from './consumer-metrics.js';
import { type BatchHooks, ConsumerRuntime, DeliveryAbandonedError } from './consumer-runtime.js';
import { tableDeadLetterSink } from './dead-letters.js';
import { embeddedGroupPositions } from './embedded-positions.js';
import { createEmbeddedRetentionJob, type EmbeddedSubscription } from './embedded-retention.js';
import type { BatchOptions, ConsumerSpec, EventLog, EventRecord, EventValidator } from './event-log.js';
import type { KernelTables } from './kernel-tables.js';
import { keyPositions } from './key-positions.js';
import { lanesFor, splitByKey } from './key-split.js';
import { KeyedLanes } from './keyed-lanes.js';
import { OUTBOX_CHANNEL } from './outbox.js';
import { OutboxHorizon } from './outbox-horizon.js';

export interface EmbeddedEventLogOptions {
  provider: DatabaseProvider;
  logger: Logger;
  metrics: Registry;
  validate: EventValidator;
  /** Fallback poll when no NOTIFY arrives (default 1000 ms). */
  pollIntervalMs?: number;
  /** Rows fetched per query (default 100). */
  batchSize?: number;
  /** How long completed work may wait before its checkpoint is written (default 200 ms). */
  checkpointIntervalMs?: number;
  /** Outbox rows older than this, once every group has passed them, are pruned (default 7 days). */
  retentionMs?: number;
  /**
   * How batch consumers recognise a redelivery: 'position' (default, ADR 039:
   * per-key-slot seqs written with the effects) or 'event-id' (ADR 012: a
   * processed_events row per event), kept to measure one against the other.
   */
  batchDedupe?: 'position' | 'event-id';
}

const TOPIC = /^nova\.([a-z_][a-z0-9_]*)\.([a-z0-9_.-]+)\.v1$/;
/** The embedded log has one partition per topic: the outbox's seq order. */
const PARTITION = 0;
const LAG_INTERVAL_MS = 5000;

/** Where a topic lives: `nova.auth.user.v1` → auth.outbox rows of aggregate type "auth.user". */
export function parseEmbeddedTopic(topic: string): { schema: string; aggregateType: string } {
  const match = TOPIC.exec(topic);
  if (!match?.[1] || !match[2])
    throw new Error(`"${topic}" is not a topic name (nova.<service>.<aggregate>.v1)`);
  return { schema: match[1], aggregateType: `${match[1]}.${match[2]}` };
}

/**
 * The all-in-one event log: the services' outbox tables ARE the log, read by
 * seq. Works only when producers and consumers share one database (config
 * validation demands Kafka otherwise), so there is nothing to relay; the
 * per-outbox worker prunes what every group has passed after the retention.
 */
export function createEmbeddedEventLog(options: EmbeddedEventLogOptions): EventLog {
  const metrics = consumerMetrics(options.metrics);
  const consumers = new Set<EmbeddedConsumer<unknown>>();
  const subscriptions: EmbeddedSubscription[] = [];
  const positions = embeddedGroupPositions(options.provider);
  return {
    kind: 'embedded',
    consumer<DB>(spec: ConsumerSpec<DB>): Worker {
      for (const topic of spec.topics) parseEmbeddedTopic(topic);
      const consumer = new EmbeddedConsumer(spec as ConsumerSpec<unknown>, options, metrics);
      consumers.add(consumer);
      subscriptions.push({
        group: spec.group,
        topics: spec.topics,
        database: spec.database as Database<unknown>,
      });
      // A group without a checkpoint holds its topic's retention, during a backfill too.
      return withBackfill(spec, consumer, { positions, logger: options.logger, metrics: options.metrics });
    },
    // Nothing to relay: the outbox is the log. Its worker is the retention job.
    relay: (database) =>
      createEmbeddedRetentionJob(database as Database<unknown>, () => subscriptions, {
        logger: options.logger,
        retentionMs: options.retentionMs ?? 7 * 24 * 3600_000,
      }),
    async close() {
      const deadline = Date.now() + 5000;
      await Promise.all([...consumers].map((c) => c.stop(deadline)));
    },
  };
}

interface Pending {
  seq: number;
  done: boolean;
}

interface TopicCursor {
  topic: string;
  schema: string;
  aggregateType: string;
  /** Highest seq whose outcome and all earlier ones are durable. */
  completed: number;
  /** Last checkpoint written. */
  committed: number;
  /** Highest seq handed to the lanes. */
  fetched: number;
  pending: Pending[];
  lag: number;
  /** Batch mode: the next rows, read while the current round commits. */
  readAhead?: Promise<Array<{ event: EventRecord; seq: number }> | undefined> | undefined;
}

type State = 'created' | 'running' | 'stopping' | 'stopped';

class EmbeddedConsumer<DB> implements Worker {
  readonly name: string;
  readonly #runtime: ConsumerRuntime<DB>;
  readonly #lanes: KeyedLanes;
  readonly #abort = new AbortController();
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #batchSize: number;
  readonly #checkpointMs: number;
  #state: State = 'created';
  #cursors: TopicCursor[] = [];
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #unlisten: (() => Promise<void>) | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #failure: unknown;
  #lastError: string | undefined;
  #crashed: string | undefined;
  #lagCheckedAt = 0;
  #paused = false;
  /** Per producing schema: how far its seqs are final (ADR 013). */
  readonly #horizons = new Map<string, OutboxHorizon>();
  #stopping!: () => void;
  readonly #stopRequested = new Promise<void>((resolve) => {
    this.#stopping = resolve;
  });

  constructor(
    private readonly spec: ConsumerSpec<DB>,
    private readonly options: EmbeddedEventLogOptions,
    private readonly metrics: ConsumerMetrics,
  ) {
    this.name = `consumer:${spec.group}`;
    this.#log = options.logger.child({ group: spec.group });
    this.#runtime = new ConsumerRuntime({
      spec,
      validate: options.validate,
      deadLetters: tableDeadLetterSink(spec.database),
      metrics,
      logger: this.#log,
      signal: this.#abort.signal,
    });
    this.#lanes = new KeyedLanes(this.#runtime.concurrency);
    this.#pollMs = options.pollIntervalMs ?? 1000;
    this.#batchSize = options.batchSize ?? 100;
    this.#checkpointMs = options.checkpointIntervalMs ?? 200;
  }

  async start(): Promise<void> {
    if (this.#state !== 'created') throw new Error(`${this.name} cannot start twice`);
    const offsets = await this.#kernel(this.spec.database)
      .selectFrom('consumer_offsets')
      .select(['topic', 'position'])
      .where('group_id', '=', this.spec.group)
      .where('partition', '=', PARTITION)
      .execute();
    const positions = new Map(offsets.map((o) => [o.topic, Number(o.position)]));
    this.#cursors = this.spec.topics.map((topic) => {
      const position = positions.get(topic) ?? 0;
      return {
        topic,
        ...parseEmbeddedTopic(topic),
        completed: position,
        committed: position,
        fetched: position,
        pending: [],
        lag: 0,
      };
    });
    const topics = new Set(this.spec.topics);
    this.#unlisten = await this.spec.database.listen?.(OUTBOX_CHANNEL, (topic) => {
      if (topics.has(topic)) this.#wake?.();
    });
    this.#state = 'running';
    this.#loop = this.#run().catch((error: unknown) => {
      // Nothing consumes any more: readiness must say so rather than report a quiet consumer.
      this.#crashed = error instanceof Error ? error.message : String(error);
      this.#log.error({ err: error }, 'consumer loop crashed');
    });
  }

  async stop(deadline: number): Promise<void> {
    if (this.#state === 'created') {
      this.#state = 'stopped';
      return;
    }
    if (this.#state !== 'running') {
      await this.#loop;
      return;
    }
    this.#state = 'stopping';
    this.#stopping();
    this.#wake?.();
    // A batch consumer delivers inside its loop; a per-event one in the lanes.
    const drained = await Promise.race([
      (this.#loop ?? Promise.resolve()).then(() => this.#lanes.idle()).then(() => true),
      sleep(deadline - Date.now()).then(() => false),
    ]);
    if (!drained) {
      // Abandoned events stay behind the checkpoint and are redelivered.
      this.#abort.abort();
      this.#log.warn({ inFlight: this.#lanes.inFlight }, 'consumer stopped before in-flight events finished');
      await this.#loop;
    }
    clearTimeout(this.#flushTimer);
    await this.#flush().catch((error: unknown) => this.#log.error({ err: error }, 'final checkpoint failed'));
    await this.#unlisten?.().catch(() => undefined);
    this.#state = 'stopped';
  }

  health(): WorkerHealth {
    const lag = this.#cursors.reduce((sum, c) => sum + c.lag, 0);
    const detail = {
      state: this.#state,
      inFlight: this.#lanes.inFlight,
      paused: this.#paused,
      lag,
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
    if (this.#state !== 'running')
      return { status: this.#state === 'stopped' ? 'down' : 'degraded', reason: this.#state, detail };
    if (this.#crashed) return { status: 'down', reason: `consumer loop crashed: ${this.#crashed}`, detail };
    const own: WorkerHealth = this.#lastError
      ? { status: 'degraded', reason: 'reading the log failed; retrying', detail }
      : { status: 'ok', detail };
    return worstHealth(own, this.#runtime.failures.health());
  }

  async #run(): Promise<void> {
    let failures = 0;
    while (this.#state === 'running') {
      try {
        if (this.#failure !== undefined) await this.#recover();
        const fetched = await this.#fetchRound();
        await this.#measureLag();
        this.#lastError = undefined;
        failures = 0;
        // Rows held back by a running writer: its commit NOTIFYs, but a
        // transaction that writes no event does not, so look again soon.
        const behind = [...this.#horizons.values()].some((h) => h.behind);
        if (!fetched) await this.#idle(behind ? Math.min(this.#pollMs, 20) : this.#pollMs);
      } catch (error) {
        failures += 1;
        this.#lastError = error instanceof Error ? error.message : String(error);
        this.#log.warn({ err: error }, 'event log fetch failed; retrying');
        await this.#idle(Math.min(this.#pollMs * failures, 30_000));
      }
    }
  }

  /** One pass over the topics; true when any rows came back. */
  async #fetchRound(): Promise<boolean> {
    if (this.#runtime.batch) return this.#batchRound(this.#runtime.batch);
    let any = false;
    const horizons = new Map<string, number>();
    for (const cursor of this.#cursors) {
      if (this.#state !== 'running' || this.#failure !== undefined) break;
      const rows = await this.#read(cursor, cursor.fetched, this.#batchSize, horizons);
      for (const { event, seq } of rows) {
        if (this.#lanes.full) {
          this.#paused = true;
          await Promise.race([this.#lanes.waitForCapacity(), this.#stopRequested]);
          this.#paused = false;
        }
        // Stopping or a failed delivery: leave the rest for the next fetch.
        if (this.#state !== 'running' || this.#failure !== undefined) break;
        any = true;
        this.#dispatch(cursor, event, seq);
      }
    }
    return any;
  }

  /**
   * Batch mode: per topic, up to maxEvents × inFlight rows — waiting up to
   * maxWaitMs for fewer than maxEvents to fill — are split by key hash into
   * up to inFlight lanes of batches (ADR 019). Lanes run side by side, a
   * lane's batches one after the other, so one key's events are applied in
   * seq order. While they commit, the next rows are read (read-ahead).
   * The next round starts once every lane of this one is durable.
   */
  async #batchRound({ maxEvents, maxWaitMs, inFlight }: Required<BatchOptions>): Promise<boolean> {
    let any = false;
    const limit = maxEvents * inFlight;
    for (const cursor of this.#cursors) {
      if (this.#state !== 'running') break;
      const ahead = cursor.readAhead;
      cursor.readAhead = undefined;
      // An empty read-ahead is stale (a NOTIFY during the round woke nobody): read again.
      let rows = (ahead ? await ahead : undefined) ?? [];
      if (rows.length === 0) rows = await this.#read(cursor, cursor.fetched, limit);
      if (rows.length === 0) continue;
      any = true;
      const until = Date.now() + maxWaitMs;
      while (rows.length < maxEvents && this.#state === 'running' && Date.now() < until) {
        // NOTIFY wakes the wait; rows held back by the horizon need another look shortly.
        await this.#idle(Math.min(until - Date.now(), 10));
        const after = rows[rows.length - 1]?.seq ?? cursor.fetched;
        rows.push(...(await this.#read(cursor, after, limit - rows.length)));
      }
      const last = rows[rows.length - 1]?.seq ?? cursor.fetched;
      if (inFlight > 1 && this.#state === 'running')
        cursor.readAhead = this.#read(cursor, last, limit).catch(() => undefined);
      await this.#deliverRound(cursor, rows, maxEvents, inFlight);
    }
    return any;
  }

  async #deliverRound(
    cursor: TopicCursor,
    rows: Array<{ event: EventRecord; seq: number }>,
    maxEvents: number,
    inFlight: number,
  ): Promise<void> {
    const seqs = new Map(rows.map((r) => [r.event.id, r.seq]));
    const last = rows[rows.length - 1]?.seq ?? cursor.fetched;
    cursor.fetched = last;
    const { group } = this.spec;
    const lanes = splitByKey(rows, (r) => r.event.key, lanesFor(rows.length, maxEvents, inFlight), maxEvents);
    // One lane: its batches run in seq order, so each transaction checkpoints
    // its own last event. Several: a lane's transaction may commit before an
    // earlier seq of another lane, so only the previous round's end (durable
    // as a whole) rides along; this round's end follows with the next round
    // or the flush.
    // Redeliveries (a rewind, a restart behind the checkpoint, a second replica) are known by seq (ADR 039).
    const positions =
      this.options.batchDedupe === 'event-id'
        ? undefined
        : keyPositions(this.spec.database.schema, group, cursor.topic, PARTITION, (e) =>
            Number(seqs.get(e.id)),
          );
    const ownCheckpoint: BatchHooks = {
      ...(positions ? { positions } : {}),
      inTransaction: (tx, upTo) => upsertOffset(tx, group, cursor.topic, seqs.get(upTo.id) ?? 0),
      committed: (upTo) => {
        cursor.committed = Math.max(cursor.committed, seqs.get(upTo.id) ?? 0);
      },
    };
    const previous = cursor.completed;
    const previousCheckpoint: BatchHooks | undefined =
      previous > cursor.committed
        ? {
            ...(positions ? { positions } : {}),
            inTransaction: (tx) => upsertOffset(tx, group, cursor.topic, previous),
            committed: () => {
              cursor.committed = Math.max(cursor.committed, previous);
            },
          }
        : undefined;
    const outcomes = await Promise.allSettled(
      lanes.map(async (batches, lane) => {
        for (const [i, batch] of batches.entries()) {
          const hooks =
            lanes.length === 1
              ? ownCheckpoint
              : ((lane === 0 && i === 0 ? previousCheckpoint : undefined) ??
                (positions ? { positions } : {}));
          await this.#runtime.deliverBatch(
            batch.map((r) => r.event),
            hooks,
          );
        }
      }),
    );
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) {
      // Not durable (stopping, or the dead-letter sink failed): read it again
      // from the last completed position; the key positions skip what the
      // other lanes committed.
      cursor.fetched = cursor.completed;
      cursor.readAhead = undefined;
      if (failed.reason instanceof DeliveryAbandonedError) return;
      throw failed.reason;
    }
    cursor.completed = last;
    // Ignored or dead-lettered events at the end, or a multi-lane round: the checkpoint follows through a flush.
    if (cursor.completed > cursor.committed) this.#scheduleFlush();
  }

  /** Up to `limit` rows of the cursor's topic after `after`, below the outbox horizon (ADR 013). */
  async #read(
    cursor: TopicCursor,
    after: number,
    limit: number,
    horizons = new Map<string, number>(),
  ): Promise<Array<{ event: EventRecord; seq: number }>> {
    const producer = await this.options.provider.open<KernelTables>(cursor.schema);
    let horizon = horizons.get(cursor.schema);
    if (horizon === undefined) {
      let tracker = this.#horizons.get(cursor.schema);
      if (!tracker) {
        tracker = new OutboxHorizon(cursor.schema);
        this.#horizons.set(cursor.schema, tracker);
      }
      horizon = await tracker.advance(producer.db as Kysely<unknown>);
      horizons.set(cursor.schema, horizon);
    }
    if (horizon <= after) return [];
    const rows = await producer.db
      .selectFrom('outbox')
      .select(['id', 'aggregateid', 'type', 'payload', 'timestamp', 'seq', 'traceparent'])
      .where('aggregatetype', '=', cursor.aggregateType)
      .where('seq', '>', after)
      .where('seq', '<=', horizon)
      .orderBy('seq')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      seq: Number(row.seq),
      event: {
        id: row.id,
        topic: cursor.topic,
        key: row.aggregateid,
        type: row.type,
        payload: row.payload,
        timestamp: new Date(row.timestamp).toISOString(),
        ...(row.traceparent ? { traceparent: row.traceparent } : {}),
      },
    }));
  }

  #dispatch(cursor: TopicCursor, event: EventRecord, seq: number): void {
    const pending: Pending = { seq, done: false };
    cursor.pending.push(pending);
    cursor.fetched = seq;
    this.#lanes
      .submit(event.key, () => this.#runtime.deliver(event).then(() => undefined))
      .then(
        () => {
          pending.done = true;
          while (cursor.pending[0]?.done) cursor.completed = cursor.pending.shift()?.seq ?? cursor.completed;
          this.#scheduleFlush();
        },
        (error: unknown) => {
          if (error instanceof DeliveryAbandonedError) return;
          // The outcome is not durable: stop dispatching, then re-read from the
          // last completed position (processed_events skips what already ran).
          this.#log.error({ err: error, eventId: event.id }, 'event delivery failed; rewinding');
          this.#failure ??= error;
          this.#lastError = error instanceof Error ? error.message : String(error);
          this.#wake?.();
        },
      );
  }

  async #recover(): Promise<void> {
    await this.#lanes.idle();
    for (const cursor of this.#cursors) {
      while (cursor.pending[0]?.done) cursor.completed = cursor.pending.shift()?.seq ?? cursor.completed;
      cursor.pending = [];
      cursor.fetched = cursor.completed;
    }
    this.#failure = undefined;
    await this.#flush();
    await this.#idle(this.#pollMs);
  }

  #scheduleFlush(): void {
    if (this.#flushTimer || this.#state === 'stopped') return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush().catch((error: unknown) => {
        this.#log.warn({ err: error }, 'checkpoint write failed; will retry');
        this.#scheduleFlush();
      });
    }, this.#checkpointMs);
  }

  /** Writes the completed prefix of every topic; serialized so positions never go back. */
  #flush(): Promise<void> {
    const next = this.#flushing.then(async () => {
      for (const cursor of this.#cursors) {
        const position = cursor.completed;
        if (position <= cursor.committed) continue;
        await upsertOffset(this.#kernel(this.spec.database), this.spec.group, cursor.topic, position);
        cursor.committed = Math.max(cursor.committed, position);
      }
    });
    this.#flushing = next.catch(() => undefined);
    return next;
  }

  async #measureLag(): Promise<void> {
    if (Date.now() - this.#lagCheckedAt < LAG_INTERVAL_MS) return;
    this.#lagCheckedAt = Date.now();
    for (const cursor of this.#cursors) {
      const producer = await this.options.provider.open<KernelTables>(cursor.schema);
      const row = await producer.db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('aggregatetype', '=', cursor.aggregateType)
        .where('seq', '>', cursor.completed)
        .executeTakeFirst();
      cursor.lag = Number(row?.n ?? 0);
      this.metrics.lag.set({ group: this.spec.group, topic: cursor.topic }, cursor.lag);
    }
  }

  /** Sleeps until woken (NOTIFY, stop, failure) or `ms` passed. */
  async #idle(ms: number): Promise<void> {
    if (this.#state !== 'running') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
    this.#wake = undefined;
  }

  #kernel(database: Database<DB>): Kysely<KernelTables> {
    return database.db as unknown as Kysely<KernelTables>;
  }
}

/** Moves a checkpoint forward only: a late writer with an older position never moves it back. */
async function upsertOffset(
  db: Kysely<KernelTables>,
  group: string,
  topic: string,
  position: number,
): Promise<void> {
  await db
    .insertInto('consumer_offsets')
    .values({ group_id: group, topic, partition: PARTITION, position })
    .onConflict((oc) =>
      oc.columns(['group_id', 'topic', 'partition']).doUpdateSet({
        position: sql<number>`greatest(consumer_offsets.position, excluded.position)`,
        updated_at: new Date(),
      }),
    )
    .execute();
}
