/**
 * The analytics store: ClickHouse, either a server over HTTP or embedded in
 * the process (chDB). Both speak the same SQL, written to the oldest server
 * this project tests against (18.16: no query parameters, no insert
 * deduplication tokens, no lightweight DELETE), so one set of statements
 * serves both (ADR 026). Values reach SQL through `sql-literals.ts` only.
 */
export interface Warehouse {
  readonly kind: 'server' | 'embedded';
  /** A statement without a result (DDL, ALTER … DELETE, INSERT … SELECT). */
  command(statement: string): Promise<void>;
  /** Rows of a SELECT, one object per row; 64-bit integers may come back as strings. */
  query<Row>(statement: string): Promise<Row[]>;
  /** Appends rows to a table (JSONEachRow); `table` is database-qualified. */
  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  /** Reachable and answering (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The store could not be reached or refused a statement: retried by consumers, 503 for requests. */
export class WarehouseError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WarehouseError';
  }
}
