import type { Kysely, Transaction } from 'kysely';

/**
 * A service's handle on its own database: a schema-scoped Kysely instance.
 * The same repository code runs on PGlite (embedded) and PostgreSQL.
 */
export interface Database<DB> {
  /** Kysely bound to the service's schema (table names need no prefix). */
  readonly db: Kysely<DB>;
  /** The service's schema name, e.g. "auth". */
  readonly schema: string;
  readonly dialect: 'pglite' | 'postgres';
  /** Queries executed so far (tests assert batch APIs run one query). */
  readonly stats: { queries: number };
  transaction<T>(fn: (tx: Transaction<DB>) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` outside any transaction (each statement commits by itself,
   * one statement is atomic) on an instance whose notifyOnCommit() notes —
   * e.g. an outbox write's wake-up — are sent once `fn` settles, outside the
   * statement, as a transaction's are after its commit.
   */
  autocommit<T>(fn: (db: Kysely<DB>) => Promise<T>): Promise<T>;
  /** Round trip to the server; throws when unreachable. */
  ping(): Promise<void>;
  /**
   * Subscribes to NOTIFY on `channel` (delivered after the notifying
   * transaction commits). Resolves with an unsubscribe function. Optional so
   * other Database implementations stay valid; the kernel's provider has it.
   */
  listen?(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
}

/** Opens schema-scoped databases; owns the pools / the PGlite instance. */
export interface DatabaseProvider {
  open<DB>(service: string): Promise<Database<DB>>;
  close(): Promise<void>;
}
