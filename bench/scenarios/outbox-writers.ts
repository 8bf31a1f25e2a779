import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, createOutboxWriter, type Database, runMigrations } from '@nova/kernel';
import { type DatabaseKind, openTestDatabases } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { type BenchReport, machine, median, pairedRatio, type Series } from '../lib/report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 4000);
const WRITERS = Number(process.env.BENCH_WRITERS ?? 32);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface RoundResult {
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

type Mode = 'lock' | 'horizon';

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/**
 * One round: WRITERS loops in parallel for ROUND_MS, each committing
 * transactions of one domain row (a "like" insert) and one outbox event. "lock" is the writer as it was before
 * ADR 013: the same writer behind the per-outbox exclusive transaction
 * advisory lock it took; "horizon" is the writer as it is now (a shared lock
 * writers never wait on).
 */
async function round(database: Database<unknown>, mode: Mode, tag: string): Promise<RoundResult> {
  const writer = createOutboxWriter(() => undefined);
  const aggregateType = `${database.schema}.like`;
  const latencies: number[] = [];
  const stopAt = Date.now() + ROUND_MS;
  const started = Date.now();
  let n = 0;
  const likes = sql.table(`${database.schema}.bench_likes`);
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      while (Date.now() < stopAt) {
        const id = `${tag}-${w}-${n++}`;
        const t0 = performance.now();
        await database.transaction(async (tx) => {
          await sql`insert into ${likes} (id, post) values (${id}, ${n % 1000})`.execute(tx);
          if (mode === 'lock')
            await sql`select pg_advisory_xact_lock(hashtext(${`${database.schema}.outbox`}))`.execute(tx);
          await writer.write(tx, [{ aggregateType, aggregateId: id, type: 'like.created', payload: { id } }]);
        });
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    eventsPerSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

async function runKind(kind: DatabaseKind, series: Series[], figures: BenchReport['figures']): Promise<void> {
  const dbs = await openTestDatabases(kind, { DATABASE_POOL_SIZE: String(WRITERS) });
  try {
    const logger = createLogger('warn');
    const database = await dbs.provider.open<unknown>('bench_writers');
    await runMigrations(database, path.join(root, 'no-migrations'), logger);
    await sql`create table ${sql.table(`${database.schema}.bench_likes`)} (id text primary key, post int not null, at timestamptz not null default now())`.execute(
      database.db,
    );
    const modes: Mode[] = ['lock', 'horizon'];
    const own = modes.map((mode) => ({
      name: `${kind}: ${WRITERS} writers, ${mode === 'lock' ? 'per-outbox advisory lock (before)' : 'shared writer lock, horizon readers (now)'}`,
      rps: [] as number[],
      p50Ms: [] as number[],
      p99Ms: [] as number[],
    }));
    for (const mode of modes) await round(database, mode, `warm-${mode}`);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, mode] of modes.entries()) {
        const result = await round(database, mode, `r${r}-${mode}`);
        const s = own[i] as Series;
        s.rps.push(result.eventsPerSecond);
        s.p50Ms.push(result.p50Ms);
        s.p99Ms.push(result.p99Ms);
        process.stderr.write(
          `${kind} round ${r + 1} ${mode}: ${result.eventsPerSecond.toFixed(0)} tx/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms\n`,
        );
      }
    }
    const outbox = sql.table(`${database.schema}.outbox`);
    // Every event landed once and got a distinct seq, whatever the commit order.
    const check = await sql<{ rows: string; seqs: string; likes: string }>`
      select (select count(*) from ${outbox}) as rows, (select count(distinct seq) from ${outbox}) as seqs,
             (select count(*) from ${sql.table(`${database.schema}.bench_likes`)}) as likes`.execute(
      database.db,
    );
    const c = check.rows[0];
    if (!c || c.rows !== c.seqs || c.rows !== c.likes)
      throw new Error(`outbox check failed: ${JSON.stringify(c)}`);
    series.push(...own);
    const [lock, horizon] = own as [Series, Series];
    figures[`${kind}: now/before throughput (paired median)`] = pairedRatio(horizon.rps, lock.rps);
    figures[`${kind}: now/before p99 latency (paired median)`] = pairedRatio(horizon.p99Ms, lock.p99Ms);
    figures[`${kind}: median events/s now`] = median(horizon.rps);
    figures[`${kind}: median events/s before`] = median(lock.rps);
  } finally {
    await dbs.close();
  }
}

export async function runOutboxWritersBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const loadBefore = os.loadavg()[0] ?? 0;
  const series: Series[] = [];
  const figures: BenchReport['figures'] = { writers: WRITERS, 'round seconds': ROUND_MS / 1000 };
  const kinds = (process.env.BENCH_KINDS ?? 'postgres,pglite').split(',') as DatabaseKind[];
  for (const kind of kinds) await runKind(kind, series, figures);
  const loadAfter = os.loadavg()[0] ?? 0;
  figures['1-min load average before / after'] = `${loadBefore.toFixed(1)} / ${loadAfter.toFixed(1)}`;
  return {
    scenario: 'outbox-writers',
    startedAt,
    machine: machine(),
    method: `${WRITERS} concurrent writers (pool of ${WRITERS} connections) for ${ROUND_MS / 1000} s per round, each committing transactions of one domain row and one outbox event ("like"). "before" = the kernel writer behind the per-outbox transaction advisory lock it used to take (ADR 005); "now" = the writer of ADR 013 (only a shared writer lock, compatible with every other writer's, plus horizon readers). ${ROUNDS} interleaved rounds per mode after a warm-up round each, on one schema; "rps" = committed transactions (= events) per second, p50/p99 = transaction latency. PGlite is one session: its transactions never overlap, so there the two differ only by the lock statement. PostgreSQL 15, Node and the load share the machine's 2 cores with other work: the load average figure says how busy it was (other sessions' test suites ran at the same time), so compare the paired ratios, not the absolute rates.`,
    series,
    figures,
  };
}
