import {
  backoffDelay,
  counter,
  type Database,
  DEFAULT_RETRY_POLICY,
  gauge,
  histogram,
  type KernelTables,
  type Logger,
  OUTBOX_CHANNEL,
  OutboxHorizon,
  type RetryPolicy,
  sleep,
  type Worker,
  type WorkerHealth,
} from '@nova/kernel';
import type { Producer } from 'kafkajs';
import { type Kysely, sql } from 'kysely';
import type { Registry } from 'prom-client';
import {
  dateOfEpochMicros,
  debeziumTimestamp,
  type OutboxRow,
  type ProducedRecord,
  recordForOutboxRow,
} from './records.js';
import { Signal } from './signal.js';
import type { TopicManager } from './topics.js';

/** The relay reads and prunes the kernel's outbox table (see kernel-tables.ts). */
export type OutboxTables = Pick<KernelTables, 'outbox'>;

/**
 * First key of the relay's session-level advisory lock (second key:
 * hashtext(schema)). The two-key lock space is separate from the outbox
 * writer's transaction lock, so leading a relay never blocks writers.
 */
const RELAY_LOCK_NAMESPACE = 0x6e6f7672; // "novr"

export interface RelayOptions {
  /** Rows per publish (default 2000). */
  batchSize?: number;
  /**
   * Overlap the next read and the previous prune with each send (default
   * true; sends stay one at a time, in seq order). false = read, send, prune,
   * one after the other (the relay before ADR 019).
   */
  pipeline?: boolean;
  /** Largest sum of payload bytes per publish, below the broker's 1 MiB batch limit (default 512 KiB). */
  maxBatchBytes?: number;
  /** Poll when no NOTIFY arrives (default 1000 ms). */
  pollIntervalMs?: number;
  /** How often a standby relay tries to become the active one (default 2000 ms). */
  standbyPollMs?: number;
  retry?: Partial<RetryPolicy>;
  /**
   * Runs after the broker acknowledged a batch and before its rows are pruned.
   * Fault tests make it throw to simulate a crash in exactly that window.
   */
  beforePrune?: (seqs: readonly number[]) => void | Promise<void>;
  /** Consecutive failed rounds after which the relay reports down (default 5). */
  failureLimit?: number;
  /** A batch still unfinished after this long reports the relay down as stuck (default 60 s). */
  stuckAfterMs?: number;
}

export interface RelayDeps {
  producer(): Promise<Producer>;
  /** Drops a producer that keeps failing, so the next attempt starts a fresh idempotent session. */
  resetProducer(): Promise<void>;
  topics: TopicManager;
  logger: Logger;
  metrics: Registry;
}

/**
 * Exactly one active relay per outbox. PostgreSQL: a session advisory lock
 * held on a dedicated pooled connection for as long as the relay leads (a
 * dead process's session ends and frees the lock). PGlite is one process's
 * private database, so a guard in this process is enough.
 */
const pgliteLeaders = new WeakMap<object, OutboxRelay>();

/**
 * The built-in CDC step for one service's outbox: reads committed rows in
 * `seq` order, publishes them with the idempotent producer and deletes them
 * only after the broker acknowledged them. A crash between the ack and the
 * delete republishes the batch; consumers' processed-event records absorb it.
 */
export class OutboxRelay implements Worker {
  readonly name: string;
  readonly #database: Database<OutboxTables>;
  readonly #deps: RelayDeps;
  readonly #log: Logger;
  readonly #wake = new Signal();
  readonly #batchSize: number;
  readonly #pipeline: boolean;
  readonly #maxBatchBytes: number;
  readonly #pollIntervalMs: number;
  readonly #standbyPollMs: number;
  readonly #retry: RetryPolicy;
  readonly #beforePrune: RelayOptions['beforePrune'];
  readonly #metrics: {
    backlog: ReturnType<typeof gauge>;
    published: ReturnType<typeof counter>;
    latency: ReturnType<typeof histogram>;
    errors: ReturnType<typeof counter>;
  };
  #running: Promise<void> | undefined;
  #stopping = false;
  #deadline = Number.POSITIVE_INFINITY;
  #active = false;
  #failures = 0;
  #lastError: string | undefined;
  #batchStartedAt: number | undefined;
  readonly #failureLimit: number;
  readonly #stuckAfterMs: number;
  #unlisten: (() => Promise<void>) | undefined;
  readonly #horizon: OutboxHorizon;

  /** `database` is any service's database: every service schema has the kernel's outbox table. */
  constructor(database: Database<OutboxTables>, deps: RelayDeps, options: RelayOptions = {}) {
    this.#database = database;
    this.name = `outbox-relay:${database.schema}`;
    this.#deps = deps;
    this.#log = deps.logger.child({ worker: this.name });
    this.#batchSize = options.batchSize ?? 2000;
    this.#pipeline = options.pipeline ?? true;
    this.#maxBatchBytes = options.maxBatchBytes ?? 512 * 1024;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#standbyPollMs = options.standbyPollMs ?? 2000;
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#beforePrune = options.beforePrune;
    this.#failureLimit = options.failureLimit ?? 5;
    this.#stuckAfterMs = options.stuckAfterMs ?? 60_000;
    this.#horizon = new OutboxHorizon(database.schema);
    this.#metrics = {
      backlog: gauge(deps.metrics, {
        name: 'nova_outbox_backlog',
        help: 'Outbox rows waiting to be published (reported by the active relay)',
        labelNames: ['service'],
      }),
      published: counter(deps.metrics, {
        name: 'nova_outbox_published_total',
        help: 'Outbox events published to Kafka and acknowledged',
        labelNames: ['service'],
      }),
      latency: histogram(deps.metrics, {
        name: 'nova_outbox_publish_latency_seconds',
        help: 'From the outbox write to the broker acknowledgement',
        labelNames: ['service'],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      }),
      errors: counter(deps.metrics, {
        name: 'nova_outbox_relay_errors_total',
        help: 'Failed relay rounds (retried with backoff)',
        labelNames: ['service'],
      }),
    };
  }

  /** True while this instance is the outbox's active relay. */
  get active(): boolean {
    return this.#active;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#stopping = false;
    this.#deadline = Number.POSITIVE_INFINITY;
    // Fail start when the broker is unreachable, like any other required dependency.
    await this.#deps.producer();
    if (this.#database.listen) {
      // The writer notifies with the topic, which need not name this schema: any commit wakes the relay (one cheap read).
      this.#unlisten = await this.#database.listen(OUTBOX_CHANNEL, () => this.#wake.notify());
    }
    this.#running = this.#loop();
  }

  async stop(deadline: number): Promise<void> {
    this.#stopping = true;
    this.#deadline = deadline;
    this.#wake.notify();
    const running = this.#running;
    if (running) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      });
      await Promise.race([running, late]);
      clearTimeout(timer);
    }
    await this.#unlisten?.().catch(() => undefined);
    this.#unlisten = undefined;
    this.#running = undefined;
  }

  health(): WorkerHealth {
    const detail = { active: this.#active, failures: this.#failures, lastError: this.#lastError };
    if (!this.#running) return { status: 'down', reason: 'not running', detail };
    const busyMs = this.#batchStartedAt === undefined ? 0 : Date.now() - this.#batchStartedAt;
    // Events committed now would never reach the log: the target is not ready.
    if (busyMs > this.#stuckAfterMs)
      return {
        status: 'down',
        reason: `a batch has been in flight for ${Math.round(busyMs / 1000)} s`,
        detail,
      };
    if (this.#failures >= this.#failureLimit)
      return { status: 'down', reason: `${this.#failures} consecutive rounds failed`, detail };
    if (this.#failures > 0) return { status: 'degraded', reason: 'rounds failing; retrying', detail };
    return { status: 'ok', detail };
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      try {
        const led = await this.#leadWhilePossible();
        if (!led && !this.#stopping) await this.#wake.wait(this.#standbyPollMs);
      } catch (error) {
        this.#failures += 1;
        this.#lastError = error instanceof Error ? error.message : String(error);
        this.#metrics.errors.inc({ service: this.#database.schema });
        this.#log.warn({ err: error, failures: this.#failures }, 'outbox relay round failed; retrying');
        if (!this.#stopping) await sleep(backoffDelay(this.#retry, Math.min(this.#failures, 10)));
      }
    }
  }

  /** Becomes the active relay if no one else is, then relays until stopped or failing. Returns false on standby. */
  async #leadWhilePossible(): Promise<boolean> {
    const database = this.#database;
    if (database.dialect === 'pglite') {
      const leader = pgliteLeaders.get(database);
      if (leader !== undefined && leader !== this) return false;
      pgliteLeaders.set(database, this);
      try {
        this.#active = true;
        await this.#relayUntilStopped(database.db);
      } finally {
        this.#active = false;
        pgliteLeaders.delete(database);
      }
      return true;
    }
    // A dedicated session for as long as this relay leads: the lock lives and dies with it.
    return database.db.connection().execute(async (session) => {
      const { rows } = await sql<{ locked: boolean }>`
        select pg_try_advisory_lock(${RELAY_LOCK_NAMESPACE}, hashtext(${database.schema})) as locked`.execute(
        session,
      );
      if (!rows[0]?.locked) return false;
      this.#active = true;
      this.#log.info('active outbox relay');
      try {
        await this.#relayUntilStopped(session);
      } finally {
        this.#active = false;
        await sql`select pg_advisory_unlock(${RELAY_LOCK_NAMESPACE}, hashtext(${database.schema}))`
          .execute(session)
          .catch(() => undefined); // a broken session has released it already
      }
      return true;
    });
  }

  async #relayUntilStopped(db: Kysely<OutboxTables>): Promise<void> {
    // Highest seq read: rows up to it are published or being published.
    let after = 0;
    let ahead: Promise<OutboxRow[]> | undefined;
    let pruning: { done: Promise<void>; startedAt: number } | undefined;
    // A batch counts as done (and the relay as healthy) once it is pruned.
    const settlePrune = async (): Promise<void> => {
      if (!pruning) return;
      this.#batchStartedAt = pruning.startedAt;
      try {
        await pruning.done;
        this.#failures = 0;
        this.#lastError = undefined;
      } finally {
        pruning = undefined;
        this.#batchStartedAt = undefined;
      }
    };
    try {
      // On stop keep draining what is committed ("flush the relay") until empty or the deadline.
      while (!this.#stopping || Date.now() < this.#deadline) {
        const rows = await (ahead ?? this.#select(db, after));
        ahead = undefined;
        if (rows.length === 0) {
          await settlePrune();
          this.#metrics.backlog.set({ service: this.#database.schema }, 0);
          if (this.#stopping) return;
          // Rows held back by a running writer (ADR 013): look again soon.
          await this.#wake.wait(
            this.#horizon.behind ? Math.min(this.#pollIntervalMs, 20) : this.#pollIntervalMs,
          );
          continue;
        }
        const startedAt = Date.now();
        this.#batchStartedAt = startedAt;
        after = (rows[rows.length - 1] as OutboxRow).seq;
        // Pipelined (ADR 019): the next read runs on the session while the
        // broker takes this batch, and this batch's prune while the next one
        // is sent. Sends stay one at a time, in seq order.
        if (this.#pipeline) {
          ahead = this.#select(db, after);
          ahead.catch(() => undefined);
        }
        await this.#publish(rows);
        await settlePrune();
        this.#batchStartedAt = startedAt;
        const done = this.#prune(db, rows);
        done.catch(() => undefined);
        pruning = { done, startedAt };
        if (!this.#pipeline) await settlePrune();
      }
    } finally {
      // Leave nothing running on the session when it goes back (or the lock with it).
      await ahead?.catch(() => undefined);
      await pruning?.done.catch(() => undefined);
      this.#batchStartedAt = undefined;
    }
  }

  /** Up to batchSize final rows after `after`, in seq order (ADR 013), within maxBatchBytes. */
  async #select(db: Kysely<OutboxTables>, after: number): Promise<OutboxRow[]> {
    // Publish only final rows, in seq order: a seq drawn by a still-running
    // transaction must not be overtaken by later ones (ADR 013).
    const horizon = await this.#horizon.advance(db as unknown as Kysely<unknown>);
    if (horizon <= after) return [];
    const selected = await db
      .selectFrom('outbox')
      .select([
        'seq',
        'id',
        'aggregatetype',
        'aggregateid',
        'type',
        // The stored JSON as PostgreSQL renders it (`{"n": 1}`) is the record value as it stands:
        // Node neither parses nor re-serialises it, and numbers keep every digit.
        sql<string>`${sql.ref('payload')}::text`.as('value'),
        'traceparent',
        // Whole microseconds (exact: extract gives numeric): both the record timestamp and Debezium's text come from it.
        sql<string>`(extract(epoch from ${sql.ref('timestamp')}) * 1000000)::bigint::text`.as('epoch_us'),
      ])
      .where('seq', '>', after)
      .where('seq', '<=', horizon)
      // A window of batchSize seqs from the first row after `after`: the scan reads at most
      // batchSize index entries whatever plan is chosen. Without it, on a fresh or stale-
      // statistics outbox the planner took a bitmap scan of every row up to the horizon plus
      // a top-N sort: O(backlog) per batch, 20 µs of PostgreSQL CPU per event relayed from a
      // 100k backlog (ADR 040). The window holds a row whenever one exists, so it never stalls.
      .where(
        'seq',
        '<',
        sql<number>`(${db
          .selectFrom('outbox')
          .select((eb) => eb.fn.min('seq').as('first'))
          .where('seq', '>', after)}) + ${this.#batchSize}`,
      )
      .orderBy('seq')
      .limit(this.#batchSize)
      .execute();
    const rows: OutboxRow[] = [];
    let bytes = 0;
    for (const row of selected) {
      const epochMicros = Number(row.epoch_us);
      bytes += row.value.length;
      if (rows.length > 0 && bytes > this.#maxBatchBytes) break;
      rows.push({
        seq: row.seq,
        id: row.id,
        aggregatetype: row.aggregatetype,
        aggregateid: row.aggregateid,
        type: row.type,
        value: row.value,
        timestamp: dateOfEpochMicros(epochMicros),
        timestampIso: debeziumTimestamp(epochMicros),
        traceparent: row.traceparent,
      });
    }
    return rows;
  }

  /** Sends the rows and waits for the broker's acknowledgement. */
  async #publish(rows: OutboxRow[]): Promise<void> {
    const service = this.#database.schema;
    const records = rows.map(recordForOutboxRow);
    await this.#deps.topics.ensure(records.map((r) => r.topic));
    const producer = await this.#deps.producer();
    try {
      await producer.sendBatch({ acks: -1, topicMessages: groupByTopic(records) });
    } catch (error) {
      // After a failed send the idempotent session's sequence numbers are in
      // doubt; a fresh producer (new producer id) republishes cleanly.
      await this.#deps.resetProducer().catch(() => undefined);
      throw error;
    }
    const ackedAt = Date.now();
    this.#metrics.published.inc({ service }, rows.length);
    for (const row of rows)
      this.#metrics.latency.observe({ service }, (ackedAt - row.timestamp.getTime()) / 1000);
  }

  /** Deletes acknowledged rows; a crash before it republishes them (consumers skip duplicates). */
  async #prune(db: Kysely<OutboxTables>, rows: OutboxRow[]): Promise<void> {
    const service = this.#database.schema;
    const seqs = rows.map((r) => r.seq);
    await this.#beforePrune?.(seqs);
    // The rows are every row in [first, last]: read in seq order below the horizon, none skipped.
    await db
      .deleteFrom('outbox')
      .where('seq', '>=', seqs[0] as number)
      .where('seq', '<=', seqs[seqs.length - 1] as number)
      .execute();
    // Rows waiting = seqs drawn (the horizon's last read of the sequence) above the last one pruned.
    // A count(*) here scanned the whole outbox, dead rows included, after every prune that
    // was not a full batch; seqs of rolled-back writes count until the next empty read sets 0.
    const last = seqs[seqs.length - 1] as number;
    this.#metrics.backlog.set({ service }, Math.max(0, this.#horizon.drawn - last));
  }
}

function groupByTopic(records: ProducedRecord[]): { topic: string; messages: ProducedRecord['message'][] }[] {
  const byTopic = new Map<string, ProducedRecord['message'][]>();
  for (const { topic, message } of records) {
    let list = byTopic.get(topic);
    if (!list) {
      list = [];
      byTopic.set(topic, list);
    }
    list.push(message);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** The relay for any service database (its schema holds the kernel's outbox table). */
export function createOutboxRelay<DB>(
  database: Database<DB>,
  deps: RelayDeps,
  options?: RelayOptions,
): OutboxRelay {
  return new OutboxRelay(database as unknown as Database<OutboxTables>, deps, options);
}
