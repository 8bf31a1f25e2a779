import os from 'node:os';
import pg from 'pg';
import { type BenchReport, machine } from '../lib/report.js';
import { runNovaSeed } from '../lib/seed.js';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const FOLLOWS = Number(process.env.BENCH_FOLLOWS ?? 10_000_000);
// Posts (content's seed hook) are left out by default: this figure is the graph's; BENCH_POSTS adds them.
const POSTS = Number(process.env.BENCH_POSTS ?? 0);
const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * `nova seed` into a fresh PostgreSQL database, run as a user would (a
 * process), timed from spawn to exit. The figure behind the README's seed
 * time; an absolute figure (the target is < 180 s for 100k users and
 * 10M follows), so the machine's load is recorded beside it.
 */
export async function runSeedBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const dbName = `nova_bench_seed_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
  const loadBefore = os.loadavg()[0] ?? 0;
  try {
    const { seconds, stdout: seededOut } = await runNovaSeed(
      { DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' },
      { users: USERS, follows: FOLLOWS, posts: POSTS },
    );
    const edges = new pg.Client({ connectionString: databaseUrl });
    await edges.connect();
    const counted = await edges.query<{ users: string; follows: string }>(
      'select (select count(*) from auth.users) as users, (select count(*) from social.follows) as follows',
    );
    await edges.end();
    const users = Number(counted.rows[0]?.users ?? 0);
    const follows = Number(counted.rows[0]?.follows ?? 0);
    return {
      scenario: 'seed',
      startedAt,
      machine: machine(),
      method: [
        `\`nova seed --users=${USERS} --follows=${FOLLOWS} --posts=${POSTS}\` as a process into a fresh PostgreSQL 15 database`,
        '(migrations, accounts through auth’s seed hook, profiles and the power-law follow graph through',
        'social’s, COPY), timed from spawn to exit; rows counted afterwards.',
        `Load average (1 min) before the run: ${loadBefore.toFixed(2)}, after: ${(os.loadavg()[0] ?? 0).toFixed(2)}.`,
        `Output: ${seededOut.trim()}`,
      ].join(' '),
      series: [],
      figures: {
        'wall seconds': seconds,
        'accounts loaded': users,
        'follow edges loaded': follows,
        'follow edges per second': follows / seconds,
        'target seconds (issue)': 180,
      },
    };
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}
