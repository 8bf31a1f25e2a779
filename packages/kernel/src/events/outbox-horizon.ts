import { type Kysely, sql } from 'kysely';

/**
 * How far a reader may follow one outbox by `seq` without passing over a row
 * that a still-running transaction will commit later (ADR 013).
 *
 * Writers take no lock: `seq` comes from the table's sequence, and the writer
 * makes sure its transaction id (xid) is assigned before it draws a seq. So
 * a seq drawn before some moment t belongs to a transaction whose xid was
 * assigned before t. The reader remembers pairs (L, X): L = the sequence's
 * last value, read first; X = xmax of a snapshot taken right after (every xid
 * assigned up to then is < X). Later, once the oldest running transaction of
 * a fresh snapshot (xmin) is ≥ X, every transaction that could hold a seq ≤ L
 * has finished — committed and visible, or rolled back — so all seqs ≤ L are
 * final and `seq ≤ L` is safe to read.
 *
 * A transaction that is still running holds the horizon back, whatever it
 * does (xids are cluster-wide): a long-running write transaction delays
 * delivery, as the old lock did for the writers behind it.
 */
export class OutboxHorizon {
  readonly #schema: string;
  /** Pending (L, X) pairs, oldest first; X grows along the list. */
  #pending: { seq: number; xmax: bigint }[] = [];
  #safe = 0;
  #latest = 0;

  constructor(schema: string) {
    this.#schema = schema;
  }

  /** The highest seq below which every row is final; re-measured on each call. */
  async advance(db: Kysely<unknown>): Promise<number> {
    const sequence = sql.table(`${this.#schema}.outbox_seq_seq`);
    const last = await sql<{ last_value: string; is_called: boolean }>`
      select last_value, is_called from ${sequence}`.execute(db);
    const row = last.rows[0];
    const seq = row ? Number(row.last_value) - (row.is_called ? 0 : 1) : 0;
    const snap = await sql<{ xmin: string; xmax: string }>`
      select pg_snapshot_xmin(s)::text as xmin, pg_snapshot_xmax(s)::text as xmax
      from (select pg_current_snapshot() as s) as snapshot`.execute(db);
    const xmin = BigInt(snap.rows[0]?.xmin ?? '0');
    const xmax = BigInt(snap.rows[0]?.xmax ?? '0');
    this.#latest = Math.max(this.#latest, seq);
    this.#pending.push({ seq, xmax });
    let settled = -1;
    for (let i = 0; i < this.#pending.length; i++) {
      const entry = this.#pending[i];
      if (entry && entry.xmax <= xmin) settled = i;
    }
    if (settled >= 0) {
      this.#safe = Math.max(this.#safe, this.#pending[settled]?.seq ?? 0);
      this.#pending = this.#pending.slice(settled + 1);
    }
    // A transaction that never ends would grow the list on every poll; dropping
    // a pair only makes the horizon more careful, never wrong.
    if (this.#pending.length > 64) this.#pending.splice(1, this.#pending.length - 32);
    return this.#safe;
  }

  /** True while seqs were drawn above the horizon (their transactions still run or just ended). */
  get behind(): boolean {
    return this.#latest > this.#safe;
  }
}
