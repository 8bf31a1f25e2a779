import { generatePopulation } from '@nova/contracts/seed';
import { interleaved, LOAD_GENERATOR } from '../lib/load.js';
import { type BenchReport, machine, median, pairedRatio } from '../lib/report.js';
import { runNovaSeed } from '../lib/seed.js';
import { createBenchDatabase, loginSeeded } from '../lib/seeded-nova.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const FOLLOWS = Number(process.env.BENCH_FOLLOWS ?? 1_000_000);
// Posts are content's; this scenario reads the graph only.
const POSTS = Number(process.env.BENCH_POSTS ?? 0);
const SEED = 42;

/** Followers page and relationship lookup on a seeded graph in PostgreSQL, beside /health/live. */
export async function runSocialBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const database = await createBenchDatabase();
  const env = { DATABASE_URL: database.url, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
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

    const nova = await database.start(env);
    const auth = await loginSeeded(nova.url, viewer.username);

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
    await database.drop();
  }
}
