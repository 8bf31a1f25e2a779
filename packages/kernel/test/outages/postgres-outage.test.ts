import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatabaseProvider,
  type Database,
  type DatabaseProvider,
  loadConfig,
  UnavailableError,
} from '../../src/index.js';
import {
  type BlackHole,
  freePort,
  type PrivatePostgres,
  startBlackHole,
  startPrivatePostgres,
} from '../../src/testing/index.js';

const CONNECT_TIMEOUT_MS = 500;
const STATEMENT_TIMEOUT_MS = 600;
const READ_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 2000;
const logger = pino({ level: 'silent' });
const run = promisify(execFile);

function providerOn(url: string): DatabaseProvider {
  return createDatabaseProvider({
    config: loadConfig({
      DATABASE_URL: url,
      DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
      DATABASE_POOL_SIZE: '4',
    }),
    logger,
  });
}

async function timed(operation: () => Promise<unknown>): Promise<{ outcome: unknown; ms: number }> {
  const started = Date.now();
  const outcome = await operation().then(
    (value) => value,
    (error: unknown) => error,
  );
  return { outcome, ms: Date.now() - started };
}

function expectUnavailable(outcome: unknown): void {
  expect(outcome).toBeInstanceOf(UnavailableError);
  expect((outcome as UnavailableError).code).toBe('database_unavailable');
}

async function eventually<T>(probe: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const count = (database: Database<unknown>) =>
  sql<{ n: number }>`select count(*)::int as n from outage_items`
    .execute(database.db)
    .then((r) => r.rows[0]?.n);

describe('PostgreSQL outages (a cluster this suite owns)', () => {
  let cluster: PrivatePostgres;
  let provider: DatabaseProvider;
  let database: Database<unknown>;

  beforeAll(async () => {
    cluster = await startPrivatePostgres();
    provider = providerOn(cluster.url);
    database = await provider.open('public');
    await sql`create table outage_items (id int primary key)`.execute(database.db);
  }, 120_000);
  afterAll(async () => {
    await provider?.close();
    await cluster?.destroy();
  });

  it.each(['fast', 'immediate'] as const)(
    'a %s shutdown answers unavailable, and the same pool recovers once the server is back',
    async (mode) => {
      await sql`insert into outage_items values (${mode === 'fast' ? 1 : 2})`.execute(database.db);
      // Hold idle connections in the pool, so the outage also cuts live sockets.
      await Promise.all([count(database), count(database), count(database)]);

      await cluster.stop(mode);
      const results = await Promise.all([
        timed(() => count(database)),
        timed(() => database.ping()),
        timed(() =>
          database.transaction(async (trx) => sql`insert into outage_items values (99)`.execute(trx)),
        ),
      ]);
      for (const { outcome, ms } of results) {
        expectUnavailable(outcome);
        expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 2000);
      }

      await cluster.start();
      expect(await eventually(() => count(database))).toBe(mode === 'fast' ? 1 : 2);
      // The failed transaction wrote nothing.
      const rows = await sql<{ id: number }>`select id from outage_items where id = 99`.execute(database.db);
      expect(rows.rows).toEqual([]);
    },
    60_000,
  );

  it('a crash while a client is checked out (mid-transaction) fails that transaction, not the process', async () => {
    const outcome = await database
      .transaction(async (trx) => {
        await sql`insert into outage_items values (50)`.execute(trx);
        await cluster.stop('immediate');
        await new Promise((r) => setTimeout(r, 200)); // the socket's death arrives while we hold the client
        await sql`insert into outage_items values (51)`.execute(trx);
      })
      .then(
        () => 'committed',
        (error: unknown) => error,
      );
    expectUnavailable(outcome);
    await cluster.start();
    const rows = await eventually(() =>
      sql<{ id: number }>`select id from outage_items where id in (50, 51)`.execute(database.db),
    );
    expect(rows.rows).toEqual([]);
  }, 60_000);

  it('a statement over DATABASE_STATEMENT_TIMEOUT_MS is cancelled by the server as unavailable', async () => {
    const { outcome, ms } = await timed(() => sql`select pg_sleep(5)`.execute(database.db));
    expectUnavailable(outcome);
    expect(ms).toBeLessThan(STATEMENT_TIMEOUT_MS + 1500);
    expect(await count(database)).toBeGreaterThan(0);
  });

  it('a server that stops answering mid-connection is cut off by the read timeout; the pool recovers', async () => {
    await Promise.all([count(database), count(database)]);
    const pids = await clusterPids(cluster);
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    let resumed = false;
    try {
      const { outcome, ms } = await timed(() => count(database));
      expectUnavailable(outcome);
      expect(ms).toBeLessThan(READ_TIMEOUT_MS + 1500);
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
      resumed = true;
    }
    expect(resumed).toBe(true);
    expect(await eventually(() => count(database))).toBeGreaterThan(0);
  }, 30_000);
});

/** The postmaster of the cluster and its children (backends, checkpointer, …). */
async function clusterPids(cluster: PrivatePostgres): Promise<number[]> {
  const { stdout } = await run('ps', ['-eo', 'pid=,ppid=,args=']);
  const lines = stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  const postmaster = lines.find((cols) => cols.slice(2).join(' ').includes(`-p ${cluster.port}`));
  if (!postmaster) throw new Error(`no postmaster for port ${cluster.port}`);
  const root = Number(postmaster[0]);
  return [root, ...lines.filter((cols) => Number(cols[1]) === root).map((cols) => Number(cols[0]))];
}

describe('PostgreSQL that is not there', () => {
  it('a port nobody listens on: queries fail fast as unavailable', async () => {
    const provider = providerOn(`postgres://postgres@127.0.0.1:${await freePort()}/postgres`);
    try {
      const database = await provider.open('public');
      const { outcome, ms } = await timed(() => database.ping());
      expectUnavailable(outcome);
      expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 1500);
    } finally {
      await provider.close();
    }
  });

  describe('a black-holed port (accepts, never answers)', () => {
    let hole: BlackHole;
    beforeAll(async () => {
      hole = await startBlackHole();
    });
    afterAll(() => hole.close());

    it('connects time out as unavailable instead of hanging', async () => {
      const provider = providerOn(hole.url('postgres'));
      try {
        const database = await provider.open('public');
        const results = await Promise.all([timed(() => database.ping()), timed(() => count(database))]);
        for (const { outcome, ms } of results) {
          expectUnavailable(outcome);
          expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 1500);
        }
      } finally {
        await provider.close();
      }
    });
  });
});
