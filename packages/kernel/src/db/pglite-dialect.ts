import type { PGlite, Results } from '@electric-sql/pglite';
import {
  CompiledQuery as Compiled,
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import { rethrowClassified } from '../errors/infrastructure.js';
import { ConnectionHeldError, heldConnectionSchema } from './held-connection.js';
import type { Mutex } from './mutex.js';

// A closed instance (shutdown under way) answers 503 like an unreachable server.
const outage = rethrowClassified('pglite');

/** One PGlite instance and the lock that makes it safe to share. */
export interface PgliteHandle {
  readonly pglite: PGlite;
  /** Held for a single statement or for a whole transaction. */
  readonly mutex: Mutex;
}

/**
 * Kysely over PGlite. PGlite is one session, so a connection is the session
 * plus the mutex: Kysely acquires a connection per statement and keeps it
 * from BEGIN to COMMIT/ROLLBACK, which is exactly the critical section.
 */
export class PgliteDialect implements Dialect {
  constructor(private readonly handle: PgliteHandle) {}

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PgliteDriver(this.handle);
  }
  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}

class PgliteDriver implements Driver {
  readonly #releases = new WeakMap<PgliteConnection, () => void>();

  constructor(private readonly handle: PgliteHandle) {}

  async init(): Promise<void> {
    await this.handle.pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    // Inside an open transaction's callback the one connection is taken: waiting for it never ends.
    const holder = heldConnectionSchema(this.handle);
    if (holder !== undefined)
      throw new ConnectionHeldError('a statement outside the transaction (use its `tx`)', holder);
    const release = await this.handle.mutex.acquire();
    const connection = new PgliteConnection(this.handle.pglite);
    this.#releases.set(connection, release);
    return connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let statement = 'begin';
    if (settings.isolationLevel || settings.accessMode) {
      statement = 'start transaction';
      if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`;
      if (settings.accessMode) statement += ` ${settings.accessMode}`;
    }
    await connection.executeQuery(Compiled.raw(statement));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(Compiled.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(Compiled.raw('rollback'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(Compiled.raw(`savepoint ${quoteIdent(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(Compiled.raw(`rollback to savepoint ${quoteIdent(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(Compiled.raw(`release savepoint ${quoteIdent(name)}`));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#releases.get(connection as PgliteConnection)?.();
    this.#releases.delete(connection as PgliteConnection);
  }

  async destroy(): Promise<void> {
    // The provider owns the PGlite instance and closes it once for every schema.
  }
}

const AFFECTING = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

class PgliteConnection implements DatabaseConnection {
  constructor(private readonly pglite: PGlite) {}

  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    return this.execute<R>(compiled).catch(outage);
  }

  private async execute<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    // Without parameters use the simple protocol, so migration files with
    // several statements run as one query (as they do on node-postgres).
    const result: Results<R> =
      compiled.parameters.length === 0
        ? lastResult(await this.pglite.exec(compiled.sql, { rowMode: 'object' }))
        : await this.pglite.query<R>(compiled.sql, [...compiled.parameters], { rowMode: 'object' });
    const command = result.command?.toUpperCase();
    return {
      rows: result.rows,
      numAffectedRows:
        command !== undefined && AFFECTING.has(command)
          ? BigInt(result.rowCount ?? result.affectedRows ?? 0)
          : undefined,
    };
  }

  // biome-ignore lint/correctness/useYield: PGlite has no cursors; streaming is refused.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streamQuery is not supported on PGlite');
  }
}

function lastResult<R>(results: Results[]): Results<R> {
  const last = results.at(-1);
  return (last ?? { rows: [], fields: [] }) as Results<R>;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
