import { type Kysely, sql } from 'kysely';

/**
 * First key of the shared transaction lock every outbox writer holds while it
 * runs (second key: hashtext(schema)). Shared locks never conflict with each
 * other, so writers do not wait for one another; the lock only makes this
 * outbox's in-flight writers visible in pg_locks.
 */
export const OUTBOX_WRITER_LOCK_NAMESPACE = 0x6e6f7677; // "novw"

/**
 * How far a reader may follow one outbox by `seq` without passing over a row
 * that a still-running transaction will commit later (ADR 013).
 *
 * A writer takes the shared writer lock of its outbox before it draws a seq
 * and keeps it until it ends (commit or rollback; the lock is released after
 * the commit is visible). The reader remembers pairs (L, W): L = the
 * sequence's last value, read first; W = the transactions holding that lock,
 * read right after. Every transaction that drew a seq ≤ L held the lock when
 * L was read, so it is in W or had already ended. Once none of W still holds
 * the lock, every seq ≤ L is final — committed and visible, or rolled back —
 * and `seq ≤ L` is safe to read.
 *
 * Only writers of this outbox hold the horizon back: transactions of other
 * schemas or databases of the same cluster do not (a cluster-wide measure
 * such as pg_snapshot_xmin would stall delivery behind any long transaction).
 */
export class OutboxHorizon {
  readonly #schema: string;
  /** Pending (L, W) pairs, oldest first. */
  #pending: { seq: number; writers: ReadonlySet<string> }[] = [];
  #safe = 0;
  #latest = 0;

  constructor(schema: string) {
    this.#schema = schema;
  }

  #measuring: Promise<unknown> = Promise.resolve();

  /**
   * The highest seq below which every row is final; re-measured on each
   * call. Calls run one after the other: pairs must be kept in the order
   * they were measured (a read-ahead may ask while another read does).
   */
  advance(db: Kysely<unknown>): Promise<number> {
    const next = this.#measuring.then(() => this.#advance(db));
    this.#measuring = next.catch(() => undefined);
    return next;
  }

  async #advance(db: Kysely<unknown>): Promise<number> {
    const sequence = sql.table(`${this.#schema}.outbox_seq_seq`);
    const last = await sql<{ last_value: string; is_called: boolean }>`
      select last_value, is_called from ${sequence}`.execute(db);
    const row = last.rows[0];
    const seq = row ? Number(row.last_value) - (row.is_called ? 0 : 1) : 0;
    // hashtext() may be negative; pg_locks shows the key as an unsigned oid.
    const holders = await sql<{ vxid: string }>`
      select virtualtransaction as vxid from pg_locks
      where locktype = 'advisory' and objsubid = 2 and granted
        and database = (select oid from pg_database where datname = current_database())
        and classid::bigint = ${OUTBOX_WRITER_LOCK_NAMESPACE}
        and objid::bigint = (hashtext(${this.#schema})::bigint & 4294967295)`.execute(db);
    const running = new Set(holders.rows.map((r) => r.vxid));
    this.#latest = Math.max(this.#latest, seq);
    this.#pending.push({ seq, writers: running });
    // A later pair settled means every earlier one did: a writer of an earlier
    // pair still running would also have been seen in the later pair.
    let settled = -1;
    for (let i = 0; i < this.#pending.length; i++) {
      const entry = this.#pending[i];
      if (entry && ![...entry.writers].some((w) => running.has(w))) settled = i;
    }
    if (settled >= 0) {
      this.#safe = Math.max(this.#safe, this.#pending[settled]?.seq ?? 0);
      this.#pending = this.#pending.slice(settled + 1);
    }
    // A writer that never ends would grow the list on every poll; dropping
    // a pair only makes the horizon more careful, never wrong.
    if (this.#pending.length > 64) this.#pending.splice(1, this.#pending.length - 32);
    return this.#safe;
  }

  /** The highest seq drawn as of the last measurement (committed, running or rolled back). */
  get drawn(): number {
    return this.#latest;
  }

  /** True while seqs were drawn above the horizon (their transactions still run or just ended). */
  get behind(): boolean {
    return this.#latest > this.#safe;
  }
}
