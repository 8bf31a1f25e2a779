import { generatePopulation } from '@nova/contracts/seed';
import pg from 'pg';
import { startNova } from '../../test/e2e/harness.js';
import { interleaved, LOAD_GENERATOR } from '../lib/load.js';
import { type BenchReport, machine, median, pairedRatio } from '../lib/report.js';
import { runNovaSeed } from '../lib/seed.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const FOLLOWS = Number(process.env.BENCH_FOLLOWS ?? 1_000_000);
// Posts are content's; this scenario reads the graph only.
const POSTS = Number(process.env.BENCH_POSTS ?? 0);
const SEED = 42;
const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Followers page and relationship lookup on a seeded graph in PostgreSQL, beside /health/live. */
export async function runSocialBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const dbName = `nova_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const databaseUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
  const env = { DATABASE_URL: databaseUrl, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  let nova: Awaited<ReturnType<typeof startNova>> | undefined;
  try {
    const seeded = await runNovaSeed(env, { users: USERS, follows: FOLLOWS, posts: POSTS, seed: SEED });
    const seedSeconds = seeded.seconds;
    process.stderr.write(seeded.stdout);

    // The same deterministic population the seed loaded: find the most followed account.
    const population = generatePopulation({ users: USERS, seed: SEED, avgFollows: FOLLOWS / USERS });
    const { followers } = population.counts();
    let top = 0;
    for (let i = 1; i < followers.length; i++) if ((followers[i] ?? 0) > (followers[top] ?? 0)) top = i;
    const celebrity = population.user(top);
    const viewer = population.user(top === 1 ? 2 : 1);

    nova = await startNova({ env });
    const login = await fetch(`${nova.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: viewer.username, password: 'nova-seed-password' }),
    });
    const { accessToken } = (await login.json()) as { accessToken?: string };
    if (!accessToken) throw new Error(`login as ${viewer.username} failed: ${login.status}`);
    const auth = { authorization: `Bearer ${accessToken}` };

    const series = await interleaved(
      [
        { name: 'GET /health/live (baseline)', url: `${nova.url}/health/live` },
        {
          name: `GET /users/{id}/followers?limit=20 (account with ${followers[top]} followers)`,
          url: `${nova.url}/api/v1/users/${celebrity.id}/followers?limit=20`,
          headers: auth,
        },
        {
          name: 'GET /users/{username} (profile + relationship)',
          url: `${nova.url}/api/v1/users/${celebrity.username}`,
          headers: auth,
        },
      ],
      { rounds: ROUNDS, durationSeconds: DURATION, connections: CONNECTIONS },
    );
    const [baseline, followersPage, relationship] = series as [
      (typeof series)[0],
      (typeof series)[0],
      (typeof series)[0],
    ];
    return {
      scenario: 'social',
      startedAt,
      machine: machine(),
      method: `Seeded graph (${USERS} users, ${population.followCount} follows, power-law) in PostgreSQL 15 via \`nova seed\`; all-in-one server on that database, cache role in-process (profiles and relationships cached, ADR 028) (LOG_LEVEL=${env.LOG_LEVEL}); ${LOAD_GENERATOR} ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION} s per series after a warm-up, load generator on the same cores. Medians of the rounds.`,
      series,
      figures: {
        'seed seconds (accounts + graph)': seedSeconds,
        'followers page / baseline rps (median of per-round pairs)': pairedRatio(
          followersPage.rps,
          baseline.rps,
        ),
        'relationship lookup / baseline rps (median of per-round pairs)': pairedRatio(
          relationship.rps,
          baseline.rps,
        ),
        'followers page p99 ms': median(followersPage.p99Ms),
        'relationship lookup p99 ms': median(relationship.p99Ms),
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
