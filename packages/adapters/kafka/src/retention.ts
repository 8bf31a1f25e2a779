import { counter, type Database, type Logger, type Worker, type WorkerHealth } from '@nova/kernel';
import type { Registry } from 'prom-client';
import type { OutboxTables } from './relay.js';
import { Signal } from './signal.js';

export interface RetentionOptions {
  /** Rows older than this are deleted (default 24 h). */
  retentionMs?: number;
  /** How often the job runs (default: a tenth of the retention, at most 5 min). */
  intervalMs?: number;
  /** Rows deleted per statement, to keep each transaction short (default 5000). */
  chunk?: number;
}

/**
 * With NOVA_OUTBOX_RELAY=external, Debezium reads the outbox INSERTs from the
 * WAL, so a row is no longer needed once committed; Nova keeps it for a
 * retention period (to inspect or replay) and this scheduled job deletes it
 * afterwards. Deleting never loses an event for Debezium: the replication
 * slot retains the WAL until the connector has confirmed it.
 */
export class OutboxRetentionJob implements Worker {
  readonly name: string;
  readonly #database: Database<OutboxTables>;
  readonly #log: Logger;
  readonly #retentionMs: number;
  readonly #intervalMs: number;
  readonly #chunk: number;
  readonly #wake = new Signal();
  readonly #pruned: ReturnType<typeof counter>;
  #running: Promise<void> | undefined;
  #stopping = false;
  #lastError: string | undefined;

  constructor(
    database: Database<OutboxTables>,
    deps: { logger: Logger; metrics: Registry },
    options: RetentionOptions = {},
  ) {
    this.#database = database;
    this.name = `outbox-retention:${database.schema}`;
    this.#log = deps.logger.child({ worker: this.name });
    this.#retentionMs = options.retentionMs ?? 24 * 3600_000;
    this.#intervalMs = options.intervalMs ?? Math.min(this.#retentionMs / 10, 300_000);
    this.#chunk = options.chunk ?? 5000;
    this.#pruned = counter(deps.metrics, {
      name: 'nova_outbox_retention_pruned_total',
      help: 'Outbox rows deleted after the retention period (external relay mode)',
      labelNames: ['service'],
    });
  }

  async start(): Promise<void> {
    this.#stopping = false;
    this.#running ??= this.#loop();
  }

  async stop(deadline: number): Promise<void> {
    this.#stopping = true;
    this.#wake.notify();
    const running = this.#running;
    this.#running = undefined;
    if (!running) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      running,
      new Promise((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now())))),
    ]);
    clearTimeout(timer);
  }

  health(): WorkerHealth {
    return this.#lastError
      ? { status: 'degraded', detail: { lastError: this.#lastError } }
      : { status: 'ok' };
  }

  /** Deletes every row past the retention; returns how many. */
  async pruneOnce(): Promise<number> {
    const cutoff = new Date(Date.now() - this.#retentionMs);
    let total = 0;
    for (;;) {
      const db = this.#database.db;
      const result = await db
        .deleteFrom('outbox')
        .where(
          'seq',
          'in',
          db
            .selectFrom('outbox')
            .select('seq')
            .where('timestamp', '<', cutoff)
            .orderBy('seq')
            .limit(this.#chunk),
        )
        .executeTakeFirst();
      const deleted = Number(result.numDeletedRows);
      total += deleted;
      if (deleted < this.#chunk || this.#stopping) break;
    }
    if (total > 0) this.#pruned.inc({ service: this.#database.schema }, total);
    return total;
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      try {
        const deleted = await this.pruneOnce();
        this.#lastError = undefined;
        if (deleted > 0) this.#log.info({ deleted }, 'pruned outbox rows past retention');
      } catch (error) {
        this.#lastError = error instanceof Error ? error.message : String(error);
        this.#log.warn({ err: error }, 'outbox retention round failed');
      }
      await this.#wake.wait(this.#intervalMs);
    }
  }
}

export function createOutboxRetentionJob<DB>(
  database: Database<DB>,
  deps: { logger: Logger; metrics: Registry },
  options?: RetentionOptions,
): OutboxRetentionJob {
  return new OutboxRetentionJob(database as unknown as Database<OutboxTables>, deps, options);
}
