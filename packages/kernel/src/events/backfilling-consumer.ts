import { type Kysely, sql, type Transaction } from 'kysely';
import type { Registry } from 'prom-client';
import type { Database } from '../db/database.js';
import type { Logger } from '../logging/logger.js';
import { counter, gauge } from '../metrics/metrics.js';
import { backoffDelay, type RetryPolicy } from '../workers/retry.js';
import { sleep } from '../workers/sleep.js';
import type { Worker, WorkerHealth } from '../workers/worker.js';
import {
  BackfillPositionLostError,
  type BackfillSpec,
  type BackfillState,
  type GroupPositions,
  type LogPositions,
} from './backfill.js';
import type { ConsumeContext, ConsumerSpec } from './event-log.js';
import type { KernelTables } from './kernel-tables.js';

export interface BackfillDeps {
  positions: GroupPositions;
  logger: Logger;
  metrics: Registry;
  /** Back-off between failed steps (a sync API outage, a failed page). */
  retry?: Partial<RetryPolicy>;
}

const DEFAULT_PAGE_SIZE = 500;
const RETRY: RetryPolicy = { maxAttempts: Number.POSITIVE_INFINITY, baseDelayMs: 200, maxDelayMs: 30_000 };

/**
 * The consumer worker of a group, with its backfill in front when the spec
 * declares one; otherwise the consumer itself. Each event log wraps the
 * consumers it creates with this.
 */
export function withBackfill<DB>(spec: ConsumerSpec<DB>, consumer: Worker, deps: BackfillDeps): Worker {
  return spec.backfill ? new BackfillingConsumer(spec, spec.backfill, consumer, deps) : consumer;
}

type Phase = 'created' | 'backfilling' | 'consuming' | 'stopped';

interface Row {
  state: BackfillState;
  positions: LogPositions | null;
  cursor: string | null;
  pages: number;
  items: number;
}

/**
 * A late group builds its read model before it consumes (ADR 018):
 * 1. it records the log's end for its topics, BEFORE reading any state;
 * 2. it pages through the owning service's snapshot, each page applied in
 *    one transaction with the snapshot cursor, so a restart resumes after
 *    the last applied page;
 * 3. it makes the recorded end the group's checkpoint;
 * 4. it starts the consumer, which follows the log from there.
 * Events between the recorded end and a page's read are delivered again in
 * step 4, which is why handlers must set state idempotently.
 *
 * Steps are recorded in consumer_backfills. Replicas of one group may run it
 * at once: a page is applied only if the stored cursor is still the one it
 * was read from (compare-and-set under the row lock), so each page applies
 * once and every replica ends on the same checkpoint.
 */
class BackfillingConsumer<DB> implements Worker {
  readonly name: string;
  readonly #group: string;
  readonly #database: Database<DB>;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #policy: RetryPolicy;
  readonly #metrics: {
    active: ReturnType<typeof gauge>;
    pages: ReturnType<typeof counter>;
    items: ReturnType<typeof counter>;
  };
  #phase: Phase = 'created';
  #stopping = false;
  #run: Promise<void> | undefined;
  #progress: Row | undefined;
  #failures = 0;
  #lastError: string | undefined;
  #crashed: string | undefined;

  constructor(
    private readonly spec: ConsumerSpec<DB>,
    private readonly backfill: BackfillSpec<DB>,
    private readonly consumer: Worker,
    private readonly deps: BackfillDeps,
  ) {
    this.name = consumer.name;
    this.#group = spec.group;
    this.#database = spec.database;
    this.#log = deps.logger.child({ group: spec.group, component: 'backfill' });
    this.#policy = { ...RETRY, ...deps.retry };
    this.#metrics = {
      active: gauge(deps.metrics, {
        name: 'nova_consumer_backfill_active',
        help: '1 while the group builds its read model from a snapshot (it consumes no event meanwhile)',
        labelNames: ['group'],
      }),
      pages: counter(deps.metrics, {
        name: 'nova_consumer_backfill_pages_total',
        help: 'Snapshot pages applied by a backfilling group',
        labelNames: ['group'],
      }),
      items: counter(deps.metrics, {
        name: 'nova_consumer_backfill_items_total',
        help: 'Snapshot items applied by a backfilling group',
        labelNames: ['group'],
      }),
    };
  }

  async start(): Promise<void> {
    if (this.#phase !== 'created') throw new Error(`${this.name} cannot start twice`);
    const row = await this.#load();
    if (row?.state === 'done' || (!row && (await this.#ranBefore()))) {
      await this.consumer.start();
      this.#phase = 'consuming';
      return;
    }
    // A snapshot can take minutes: the process starts meanwhile; readiness shows the progress.
    this.#phase = 'backfilling';
    this.#progress = row;
    this.#metrics.active.set({ group: this.#group }, 1);
    this.#log.info({ state: row?.state ?? 'new', cursor: row?.cursor ?? null }, 'backfill starts');
    this.#run = this.#backfillThenConsume().catch((error: unknown) => {
      this.#crashed = error instanceof Error ? error.message : String(error);
      this.#log.error({ err: error }, 'backfill crashed');
    });
  }

  async stop(deadline: number): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    // A page transaction in progress finishes (or rolls back); nothing else waits.
    if (this.#run) await Promise.race([this.#run, sleep(Math.max(0, deadline - Date.now()))]);
    if (this.#phase === 'consuming') await this.consumer.stop(deadline);
    this.#phase = 'stopped';
    this.#metrics.active.set({ group: this.#group }, 0);
  }

  health(): WorkerHealth {
    if (this.#phase === 'consuming') return this.consumer.health();
    const row = this.#progress;
    const detail = {
      backfill: { state: row?.state ?? 'new', pages: row?.pages ?? 0, items: row?.items ?? 0 },
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
    if (this.#phase === 'created') return { status: 'degraded', reason: 'created', detail };
    if (this.#phase === 'stopped') return { status: 'down', reason: 'stopped', detail };
    if (this.#crashed) return { status: 'down', reason: `backfill crashed: ${this.#crashed}`, detail };
    const progress = `backfilling from a snapshot: ${detail.backfill.pages} pages, ${detail.backfill.items} items; events wait`;
    return {
      status: 'degraded',
      reason: this.#lastError ? `${progress}; retrying after: ${this.#lastError}` : progress,
      detail,
    };
  }

  async #backfillThenConsume(): Promise<void> {
    await this.#retrying(async () => {
      for (;;) {
        if (this.#stopping) return;
        if (await this.#step()) return;
      }
    });
    await this.#retrying(() => this.consumer.start());
    if (this.#stopping) {
      // Stop ran while the consumer was starting: it saw no consumer to stop.
      await this.consumer.stop(Date.now() + 5000);
      return;
    }
    this.#phase = 'consuming';
    this.#metrics.active.set({ group: this.#group }, 0);
    this.#log.info({ pages: this.#progress?.pages, items: this.#progress?.items }, 'backfill finished');
  }

  /** Runs `work` until it succeeds or the worker stops, backing off between failures. */
  async #retrying(work: () => Promise<void>): Promise<void> {
    while (!this.#stopping) {
      try {
        await work();
        this.#failures = 0;
        this.#lastError = undefined;
        return;
      } catch (error) {
        if (this.#stopping) return;
        this.#failures += 1;
        this.#lastError = error instanceof Error ? error.message : String(error);
        this.#log.warn({ err: error, failures: this.#failures }, 'backfill step failed; retrying');
        await Promise.race([
          sleep(backoffDelay(this.#policy, this.#failures)),
          new Promise((resolve) => this.#abort.signal.addEventListener('abort', resolve, { once: true })),
        ]);
      }
    }
  }

  /** One step of the backfill, from the stored state; true once the group may consume. */
  async #step(): Promise<boolean> {
    const row = await this.#load();
    this.#progress = row;
    switch (row?.state) {
      case undefined:
      case 'requested':
        await this.#begin(row?.state === 'requested');
        return false;
      case 'snapshot':
        await this.#page(row);
        return false;
      case 'seeking':
        await this.#seek(row);
        return false;
      case 'done':
        return true;
    }
  }

  /** Records the log's end before any state is read; a rebuild also forgets what the group did. */
  async #begin(rebuild: boolean): Promise<void> {
    const positions = await this.deps.positions.end(this.spec.topics);
    await this.#database.transaction(async (tx) => {
      const db = kernel(tx);
      if (!rebuild) {
        await db
          .insertInto('consumer_backfills')
          .values({ group_id: this.#group, state: 'snapshot', positions: json(positions) })
          .onConflict((oc) => oc.column('group_id').doNothing())
          .execute();
        return;
      }
      const claimed = await db
        .updateTable('consumer_backfills')
        .set({
          state: 'snapshot',
          positions: json(positions),
          cursor: null,
          pages: '0',
          items: '0',
          started_at: new Date(),
          updated_at: new Date(),
          finished_at: null,
        })
        .where('group_id', '=', this.#group)
        .where('state', '=', 'requested')
        .returning('group_id')
        .executeTakeFirst();
      if (!claimed) return;
      // Replayed events must apply again, and the checkpoint restarts at the recorded end.
      await db.deleteFrom('processed_events').where('group_id', '=', this.#group).execute();
      await db.deleteFrom('consumer_offsets').where('group_id', '=', this.#group).execute();
      await db.deleteFrom('consumer_key_positions').where('group_id', '=', this.#group).execute();
      await this.backfill.reset?.(this.#context(tx));
    });
    this.#log.info({ positions, rebuild }, 'backfill recorded the log position');
  }

  async #page(row: Row): Promise<void> {
    const limit = this.backfill.pageSize ?? DEFAULT_PAGE_SIZE;
    const page = await this.backfill.read(row.cursor, limit, this.#abort.signal);
    const applied = await this.#database.transaction(async (tx) => {
      const current = await kernel(tx)
        .selectFrom('consumer_backfills')
        .select(['state', 'cursor'])
        .where('group_id', '=', this.#group)
        .forUpdate()
        .executeTakeFirst();
      // Another replica applied this page (or finished) since it was read.
      if (current?.state !== 'snapshot' || current.cursor !== row.cursor) return false;
      await this.backfill.apply(page.items, this.#context(tx));
      await kernel(tx)
        .updateTable('consumer_backfills')
        .set({
          state: page.nextCursor === null ? 'seeking' : 'snapshot',
          cursor: page.nextCursor,
          pages: sql<string>`pages + 1`,
          items: sql<string>`items + ${page.items.length}`,
          updated_at: new Date(),
        })
        .where('group_id', '=', this.#group)
        .execute();
      return true;
    });
    if (!applied) return;
    this.#metrics.pages.inc({ group: this.#group });
    this.#metrics.items.inc({ group: this.#group }, page.items.length);
    this.#progress = { ...row, pages: row.pages + 1, items: row.items + page.items.length };
  }

  /** Outside a transaction: Kafka's seek is a group join of a few seconds. Repeating it is harmless. */
  async #seek(row: Row): Promise<void> {
    if (!row.positions) throw new Error(`backfill of ${this.#group} is seeking without a recorded position`);
    try {
      await this.deps.positions.seek(this.#group, row.positions, kernel(this.#database.db));
    } catch (error) {
      if (!(error instanceof BackfillPositionLostError)) throw error;
      // The snapshot is still applied; a rebuild records a new position and reads it again.
      this.#log.warn({ err: error }, 'backfill position lost to retention; starting over');
      await kernel(this.#database.db)
        .updateTable('consumer_backfills')
        .set({ state: 'requested', updated_at: new Date() })
        .where('group_id', '=', this.#group)
        .where('state', '=', 'seeking')
        .execute();
      return;
    }
    await kernel(this.#database.db)
      .updateTable('consumer_backfills')
      .set({ state: 'done', finished_at: new Date(), updated_at: new Date() })
      .where('group_id', '=', this.#group)
      .where('state', '=', 'seeking')
      .execute();
    this.#log.info({ positions: row.positions }, 'backfill applied the snapshot; the group follows the log');
  }

  async #load(): Promise<Row | undefined> {
    const row = await kernel(this.#database.db)
      .selectFrom('consumer_backfills')
      .select(['state', 'positions', 'cursor', 'pages', 'items'])
      .where('group_id', '=', this.#group)
      .executeTakeFirst();
    if (!row) return undefined;
    return { ...row, pages: Number(row.pages), items: Number(row.items) };
  }

  /** A group that consumed before it declared a backfill keeps its checkpoint. */
  #ranBefore(): Promise<boolean> {
    return this.deps.positions.hasCheckpoint(
      this.#group,
      this.spec.topics,
      this.#database as Database<unknown>,
    );
  }

  #context(tx: Transaction<DB>): ConsumeContext<DB> {
    return { tx, attempt: this.#failures + 1, log: this.#log };
  }
}

function kernel<DB>(db: Kysely<DB>): Kysely<KernelTables> {
  return db as unknown as Kysely<KernelTables>;
}

/** jsonb parameter: pg would send a plain object as text, PGlite as json; stringify for both. */
function json(positions: LogPositions): LogPositions {
  return JSON.stringify(positions) as unknown as LogPositions;
}

/**
 * Asks for a rebuild of a group with a backfill (`nova backfill`): its next
 * start records a new log position, forgets the group's processed events and
 * checkpoints, calls `reset`, and reads the snapshot again. Stop every
 * process of the group first; a running member would keep consuming.
 */
export async function requestBackfill(database: Database<unknown>, group: string): Promise<void> {
  await kernel(database.db)
    .insertInto('consumer_backfills')
    .values({ group_id: group, state: 'requested' })
    .onConflict((oc) =>
      oc.column('group_id').doUpdateSet({ state: 'requested', updated_at: new Date(), finished_at: null }),
    )
    .execute();
}
