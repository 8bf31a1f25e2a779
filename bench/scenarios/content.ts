import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { generatePopulation } from '@nova/contracts/seed';
import pg from 'pg';
import { startNova } from '../../test/e2e/harness.js';
import { interleaved, LOAD_GENERATOR } from '../lib/load.js';
import { type BenchReport, machine, median, pairedRatio } from '../lib/report.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const FOLLOWS = Number(process.env.BENCH_FOLLOWS ?? 100_000);
const POSTS = Number(process.env.BENCH_POSTS ?? 1_000_000);
const SEED = 42;
const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Posts for the seeded accounts, straight into content's table (content has
 * no seed hook yet): UUIDv7 ids whose instant is created_at, spread over the
 * last 180 days, so older months sit in the default partition as seeded
 * history does.
 */
async function loadPosts(databaseUrl: string, posts: number): Promise<number> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const started = Date.now();
  try {
    await db.query(`
      WITH authors AS (SELECT array_agg(id ORDER BY id) AS ids FROM social.profiles),
      rows AS (
        SELECT i, (extract(epoch FROM now()) * 1000)::bigint - (i::bigint * 15552000000 / ${posts}) AS ms,
               md5(i::text) AS r
          FROM generate_series(1, ${posts}) AS i
      )
      INSERT INTO content.posts (id, author_id, text, visibility, hashtags, created_at)
      SELECT substr(lpad(to_hex(ms), 12, '0'), 1, 8) || '-' || substr(lpad(to_hex(ms), 12, '0'), 9, 4)
               || '-7' || substr(r, 1, 3) || '-8' || substr(r, 4, 3) || '-' || substr(r, 7, 12),
             authors.ids[1 + (i % array_length(authors.ids, 1))],
             'seeded post ' || i || ' #bench',
             'public', '{bench}', to_timestamp(ms / 1000.0)
        FROM rows, authors`);
    await db.query('ANALYZE content.posts');
  } finally {
    await db.end();
  }
  return (Date.now() - started) / 1000;
}

/** Create a post and read a hydrated post (author, counts, likedByMe) beside /health/live, on PostgreSQL. */
export async function runContentBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const dbName = `nova_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
  const env = { DATABASE_URL: databaseUrl, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  let nova: Awaited<ReturnType<typeof startNova>> | undefined;
  try {
    await run('node', ['--import', 'tsx', 'apps/nova/src/main.ts', 'migrate', '--target=all'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    await run(
      'node',
      [
        '--import',
        'tsx',
        'apps/nova/src/main.ts',
        'seed',
        `--users=${USERS}`,
        `--follows=${FOLLOWS}`,
        `--seed=${SEED}`,
      ],
      { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
    );
    const postSeconds = await loadPosts(databaseUrl, POSTS);
    const population = generatePopulation({ users: USERS, seed: SEED, avgFollows: FOLLOWS / USERS });
    const viewer = population.user(1);

    nova = await startNova({ env });
    const login = await fetch(`${nova.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: viewer.username, password: 'nova-seed-password' }),
    });
    const { accessToken } = (await login.json()) as { accessToken?: string };
    if (!accessToken) throw new Error(`login as ${viewer.username} failed: ${login.status}`);
    const auth = { authorization: `Bearer ${accessToken}` };
    const created = await fetch(`${nova.url}/api/v1/posts`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'the post the readers read #bench' }),
    });
    const { id } = (await created.json()) as { id?: string };
    if (!id) throw new Error(`creating the read post failed: ${created.status}`);
    await fetch(`${nova.url}/api/v1/posts/${id}/like`, { method: 'POST', headers: auth });

    const series = await interleaved(
      [
        { name: 'GET /health/live (baseline)', url: `${nova.url}/health/live` },
        {
          name: 'POST /posts (text with a hashtag)',
          url: `${nova.url}/api/v1/posts`,
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'benchmarking Nova #bench' }),
        },
        {
          name: 'GET /posts/{id} (hydrated: author, counts, likedByMe)',
          url: `${nova.url}/api/v1/posts/${id}`,
          headers: auth,
        },
      ],
      { rounds: ROUNDS, durationSeconds: DURATION, connections: CONNECTIONS },
    );
    const [baseline, create, read] = series as [(typeof series)[0], (typeof series)[0], (typeof series)[0]];
    return {
      scenario: 'content',
      startedAt,
      machine: machine(),
      method: `${USERS} seeded accounts (${FOLLOWS} follows) via \`nova seed\`, ${POSTS} posts bulk-loaded into content.posts over 180 days, PostgreSQL 15; all-in-one server on that database (LOG_LEVEL=${env.LOG_LEVEL}); ${LOAD_GENERATOR} ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION} s per series after a warm-up, load generator on the same cores. Medians of the rounds.`,
      series,
      figures: {
        'posts bulk-load seconds': postSeconds,
        'create post / baseline rps (median of per-round pairs)': pairedRatio(create.rps, baseline.rps),
        'get hydrated post / baseline rps (median of per-round pairs)': pairedRatio(read.rps, baseline.rps),
        'create post p99 ms': median(create.p99Ms),
        'get hydrated post p99 ms': median(read.p99Ms),
      },
    };
  } finally {
    await nova?.stop();
    nova?.cleanup();
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [dbName],
    );
    await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
    await admin.end();
  }
}
