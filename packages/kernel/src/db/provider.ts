import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { type Dialect, Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Config } from '../config/config.js';
import { rethrowClassified, unavailableFrom } from '../errors/infrastructure.js';
import type { Logger } from '../logging/logger.js';
import { recordQuerySpan } from '../tracing/db-spans.js';
import { CommitNotifier, type Note, withAutocommitNotes, withCommitNotes } from './commit-notifier.js';
import type { Database, DatabaseProvider } from './database.js';
import { holdingConnection } from './held-connection.js';
import { Mutex } from './mutex.js';
import { withNamedStatements } from './named-statements.js';
import { PgListener } from './pg-listener.js';
import { PgliteDialect, type PgliteHandle } from './pglite-dialect.js';

export interface DatabaseProviderOptions {
  config: Config;
  logger: Logger;
  /** Embedded database tuning; tests use `dataDir: 'memory://'`. */
  pglite?: {
    /** Default `<config.dataDir>/pglite`; `memory://` keeps everything in memory. */
    dataDir?: string;
    /** A tarball from `dumpDataDir()` to start from (skips initdb, ~6 s → <1 s). */
    loadDataDir?: Blob;
  };
}

const INT8_OID = 20;
const INT8_ARRAY_OID = 1016;
const TEXT_ARRAY_OID = 1009;

/**
 * int8 (bigint, count(*), bigserial) comes back as a JS number on BOTH
 * databases: PGlite does so natively and node-postgres is configured to
 * match. Nova keeps int8 for counters and offsets that stay far below 2^53;
 * ids are uuids, and exact decimals use numeric (returned as a string).
 */
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID) return (value: string) => Number(value);
    if (oid === INT8_ARRAY_OID) {
      const parseTextArray = pg.types.getTypeParser(
        TEXT_ARRAY_OID as Parameters<typeof pg.types.getTypeParser>[0],
        'text',
      ) as (value: string) => (string | null)[];
      return (value: string) => parseTextArray(value).map((v) => (v === null ? null : Number(v)));
    }
    return pg.types.getTypeParser(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * One shared PGlite for every service without a database URL (a schema per
 * service), and one pg Pool per distinct URL shared by the services on it.
 */
export function createDatabaseProvider(options: DatabaseProviderOptions): DatabaseProvider {
  const { config, logger } = options;
  const opened = new Map<string, Promise<Database<unknown>>>();
  const pools = new Map<string, { pool: pg.Pool; listener: PgListener; notifier: CommitNotifier }>();
  let pglite: Promise<PgliteHandle> | undefined;
  let closed = false;

  const openPglite = (): Promise<PgliteHandle> => {
    pglite ??= (async () => {
      const dataDir = options.pglite?.dataDir ?? path.join(config.dataDir, 'pglite');
      const inMemory = dataDir.startsWith('memory://');
      if (!inMemory) await mkdir(dataDir, { recursive: true });
      const started = Date.now();
      const instance = await PGlite.create(inMemory ? undefined : dataDir, {
        loadDataDir: options.pglite?.loadDataDir,
      });
      logger.debug({ dataDir, ms: Date.now() - started }, 'embedded database opened');
      return { pglite: instance, mutex: new Mutex() };
    })();
    return pglite;
  };

  /** Connections per pool kept open while idle (the feed's warm start opens 4). */
  const KEPT_CONNECTIONS = 4;
  const poolFor = (url: string) => {
    let entry = pools.get(url);
    if (!entry) {
      const { poolSize, connectTimeoutMs, statementTimeoutMs } = config.database;
      const pool = new pg.Pool({
        connectionString: url,
        max: poolSize,
        types: pgTypes,
        // Bounds both a connect that gets no answer and the wait for a free client.
        connectionTimeoutMillis: connectTimeoutMs,
        // A live server cancels a long statement itself (57014); the client-side
        // read timeout, a little later, covers a server that stopped answering.
        ...(statementTimeoutMs > 0
          ? {
              statement_timeout: statementTimeoutMs,
              query_timeout: statementTimeoutMs + READ_TIMEOUT_MARGIN_MS,
            }
          : {}),
        // Half-open connections to a vanished host are noticed by the kernel.
        keepAlive: true,
        // Idle connections beyond these few close after pg-pool's 10 s; these stay open once made,
        // so the connections (and backends' plans and catalogs) a warm start paid for are still
        // there for the first requests, which otherwise paid connection setup again.
        min: Math.min(KEPT_CONNECTIONS, poolSize),
        // No JIT: the services' statements are short, and a plan estimated above jit_above_cost
        // (e.g. the feed's timeline rebuild) paid ~700 ms of LLVM emission on every execution
        // for a 128 ms query. An `options` parameter in the URL still wins (pg parses it last).
        options: '-c jit=off',
      });
      // An idle client dying (server restart) must not crash the process.
      // pg attaches the whole client to the error: log what it says, not the client.
      pool.on('error', (error: Error & { code?: string }) =>
        logger.warn({ error: error.message, code: error.code }, 'idle database connection failed'),
      );
      const notifier = new CommitNotifier(notifySender(url, connectTimeoutMs), logger);
      entry = { pool, listener: new PgListener(url, logger), notifier };
      pools.set(url, entry);
    }
    return entry;
  };

  const openDatabase = async (service: string): Promise<Database<unknown>> => {
    const url =
      (config.database.urls as Record<string, string | undefined>)[service] ?? config.database.defaultUrl;
    if (url === undefined) {
      const handle = await openPglite();
      return scopedDatabase(
        service,
        'pglite',
        new PgliteDialect(handle),
        (channel, onNotify) =>
          handle.mutex.runExclusive(async () => {
            const unlisten = await handle.pglite.listen(channel, onNotify);
            return () => handle.mutex.runExclusive(() => unlisten());
          }),
        handle,
      );
    }
    const { pool, listener, notifier } = poolFor(url);
    // Kysely must not end the shared pool: the provider does, once.
    const shared = {
      connect: async () => guarded(withNamedStatements(await pool.connect().catch(outage))),
      end: async () => undefined,
    };
    return scopedDatabase(
      service,
      'postgres',
      new PostgresDialect({ pool: shared }),
      (channel, onNotify) => listener.listen(channel, onNotify),
      undefined,
      notifier,
    );
  };

  return {
    open<DB>(service: string): Promise<Database<DB>> {
      if (closed) return Promise.reject(new Error('database provider is closed'));
      if (!/^[a-z_][a-z0-9_]*$/.test(service))
        return Promise.reject(new Error(`invalid schema name "${service}"`));
      let database = opened.get(service);
      if (!database) {
        database = openDatabase(service);
        opened.set(service, database);
      }
      return database as Promise<Database<DB>>;
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const entry of pools.values()) {
        await entry.notifier.close();
        await entry.listener.close();
        await entry.pool.end();
      }
      pools.clear();
      if (pglite) {
        const handle = await pglite;
        // Wait for the statement or transaction in progress before closing.
        await handle.mutex.runExclusive(() => handle.pglite.close());
      }
    },
  };
}

const READ_TIMEOUT_MARGIN_MS = 2000;

/**
 * Sends post-commit NOTIFYs on a connection of their own (a send never waits
 * for a pool client behind the requests it wakes readers for), each send one
 * implicit transaction committed without waiting for the WAL flush (see
 * CommitNotifier). A failed connection is dropped; the next send reconnects.
 */
function notifySender(url: string, connectTimeoutMs: number) {
  let client: Promise<pg.Client> | undefined;
  const connect = async () => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
    c.on('error', () => {
      client = undefined;
    });
    await c.connect();
    return c;
  };
  return {
    async send(notes: readonly Note[]): Promise<void> {
      client ??= connect();
      const c = await client.catch((error: unknown) => {
        client = undefined;
        throw error;
      });
      const calls = notes.map((_, i) => `pg_notify($${2 * i + 1}, $${2 * i + 2})`).join(', ');
      await c.query(
        `SELECT set_config('synchronous_commit', 'off', true), ${calls}`,
        notes.flatMap((n) => [n.channel, n.payload]),
      );
    },
    async end(): Promise<void> {
      const c = await client?.catch(() => undefined);
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
const outage = rethrowClassified('postgres');
const guardedClients = new WeakSet<pg.PoolClient>();

/**
 * Classifies the client's query failures at this boundary, and remembers a
 * connection-level one: such a client (timed out mid-query, cut off) is
 * destroyed on release instead of going back to the pool, so the pool
 * reconnects once the server is back rather than handing out dead sockets.
 */
function guarded(client: pg.PoolClient): pg.PoolClient {
  if (guardedClients.has(client)) return client;
  guardedClients.add(client);
  let broken: Error | undefined;
  // pg-pool listens for socket errors only while a client is idle: one that
  // dies while checked out (a server crash mid-request) would otherwise emit
  // an unhandled 'error' and take the whole process down.
  client.on('error', (error) => {
    broken = unavailableFrom(error, 'postgres') ?? error;
  });
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((...args: unknown[]) => {
    const result = query(...args);
    if (!(result instanceof Promise)) return result;
    return result.catch((error: unknown) => {
      const unavailable = unavailableFrom(error, 'postgres');
      if (unavailable) {
        broken = unavailable;
        throw unavailable;
      }
      throw error;
    });
  }) as typeof client.query;
  const release = client.release.bind(client);
  client.release = ((destroy?: Error | boolean) => {
    const reason = destroy ?? broken;
    broken = undefined;
    release(reason);
  }) as typeof client.release;
  return client;
}

function scopedDatabase(
  schema: string,
  kind: Database<unknown>['dialect'],
  dialect: Dialect,
  listen: NonNullable<Database<unknown>['listen']>,
  /** Set for an engine with one connection: its transactions are tracked so a call that needs it fails loudly. */
  singleConnection?: object,
  /** Set where NOTIFYs of a transaction are sent after its commit (notifyOnCommit). */
  notifier?: CommitNotifier,
): Database<unknown> {
  const stats = { queries: 0 };
  const root = new Kysely<unknown>({
    dialect,
    log: (event) => {
      stats.queries += 1;
      recordQuerySpan(event, schema);
    },
  });
  const db = root.withSchema(schema);
  return {
    db,
    schema,
    dialect: kind,
    stats,
    transaction: singleConnection
      ? (fn) => db.transaction().execute((tx) => holdingConnection(singleConnection, schema, () => fn(tx)))
      : notifier
        ? (fn) => withCommitNotes(notifier, (body) => db.transaction().execute(body), fn)
        : (fn) => db.transaction().execute(fn),
    autocommit: notifier ? (fn) => withAutocommitNotes(notifier, db, fn) : (fn) => fn(db),
    async ping() {
      await sql`select 1`.execute(db);
    },
    listen,
  };
}
