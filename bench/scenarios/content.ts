import { generatePopulation, generatePosts } from '@nova/contracts/seed';
import pg from 'pg';
import { startNova } from '../../test/e2e/harness.js';
import { interleaved, LOAD_GENERATOR } from '../lib/load.js';
import { type BenchReport, machine, median, pairedRatio } from '../lib/report.js';
import { runNovaSeed } from '../lib/seed.js';
import { createBenchDatabase, loginSeeded, type RunningNova } from '../lib/seeded-nova.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const USERS = Number(process.env.BENCH_USERS ?? 10_000);
const FOLLOWS = Number(process.env.BENCH_FOLLOWS ?? 100_000);
const POSTS = Number(process.env.BENCH_POSTS ?? 1_000_000);
const SEED = 42;
/**
 * A database `nova seed` already filled (same size and seed) to measure on
 * instead of seeding one (~5 min for 1M posts); it is kept. Each run adds
 * the posts its create series makes.
 */
const REUSE_URL = process.env.BENCH_CONTENT_DATABASE_URL;

/**
 * Resolves once every consumer group of every schema has consumed the
 * post events content wrote (the create series' backlog: postCount, feed
 * fan-out, notifications, analytics), or after `timeoutMs`; the seconds
 * it waited.
 */
async function drainPostEvents(databaseUrl: string, timeoutMs = 60_000): Promise<number> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const started = Date.now();
  try {
    const { rows: schemas } = await db.query<{ schema: string }>(
      `SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'consumer_offsets'`,
    );
    const positions = schemas
      .map((s) => `SELECT position FROM "${s.schema}".consumer_offsets WHERE topic = 'nova.content.post.v1'`)
      .join(' UNION ALL ');
    for (;;) {
      const { rows } = await db.query<{ behind: boolean }>(
        `SELECT coalesce((SELECT min(position) FROM (${positions}) p), 0) <
                coalesce((SELECT max(seq) FROM content.outbox WHERE aggregatetype = 'content.post'), 0) AS behind`,
      );
      if (!rows[0]?.behind || Date.now() - started > timeoutMs) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await db.end();
  }
  return (Date.now() - started) / 1000;
}

/** Create a post and read a hydrated post (author, counts, likedByMe) beside /health/live, on PostgreSQL. */
export async function runContentBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const database = REUSE_URL ? undefined : await createBenchDatabase();
  const databaseUrl = REUSE_URL ?? (database?.url as string);
  const env = { DATABASE_URL: databaseUrl, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' };
  let reused: RunningNova | undefined;
  try {
    let seedSeconds = 0;
    if (database) {
      await database.migrate(env);
      const seeded = await runNovaSeed(env, { users: USERS, follows: FOLLOWS, posts: POSTS, seed: SEED });
      seedSeconds = seeded.seconds;
      process.stderr.write(seeded.stdout);
    }
    const population = generatePopulation({ users: USERS, seed: SEED, avgFollows: FOLLOWS / USERS });
    const viewer = population.user(1);
    // The busiest author of the seeded posts: the author page reads the most rows.
    const counts = generatePosts(population, { posts: POSTS, endMs: Date.now() }).postCounts();
    const busiest = population.userId(counts.indexOf(Math.max(...counts)));

    const nova = database ? await database.start(env) : await startNova({ env });
    if (!database) reused = nova;
    const auth = await loginSeeded(nova.url, viewer.username);
    const created = await fetch(`${nova.url}/api/v1/posts`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'the post the readers read #bench' }),
    });
    const { id } = (await created.json()) as { id?: string };
    if (!id) throw new Error(`creating the read post failed: ${created.status}`);
    await fetch(`${nova.url}/api/v1/posts/${id}/like`, { method: 'POST', headers: auth });

    const drained: number[] = [];
    const series = await interleaved(
      [
        { name: 'GET /health/live (baseline)', url: `${nova.url}/health/live` },
        {
          name: 'POST /posts (text with a hashtag)',
          url: `${nova.url}/api/v1/posts`,
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ text: 'benchmarking Nova #bench' }),
          settle: async () => {
            drained.push(await drainPostEvents(databaseUrl));
          },
        },
        {
          name: 'GET /posts/{id} (hydrated: author, counts, likedByMe)',
          url: `${nova.url}/api/v1/posts/${id}`,
          headers: auth,
        },
        {
          name: 'GET /users/{id}/posts?limit=20 (busiest author, hydrated)',
          url: `${nova.url}/api/v1/users/${busiest}/posts?limit=20`,
          headers: auth,
        },
      ],
      { rounds: ROUNDS, durationSeconds: DURATION, connections: CONNECTIONS },
    );
    const [baseline, create, read, page] = series as [
      (typeof series)[0],
      (typeof series)[0],
      (typeof series)[0],
      (typeof series)[0],
    ];
    return {
      scenario: 'content',
      startedAt,
      machine: machine(),
      method: `${USERS} seeded accounts (${FOLLOWS} follows) and ${POSTS} posts over 90 days with likes and comments via \`nova seed\` (content's seed hook, COPY${REUSE_URL ? '; a database seeded before this run, plus the posts earlier runs created' : ''}), PostgreSQL 15, cache role in-process; all-in-one server on that database (LOG_LEVEL=${env.LOG_LEVEL}); ${LOAD_GENERATOR} ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION} s per series after a warm-up, load generator on the same cores; after each create round the run waits until every consumer group has consumed its post events, so the next series does not pay for them. Medians of the rounds.`,
      series,
      figures: {
        'seed seconds (accounts, graph, posts, likes, comments)': seedSeconds,
        'create post / baseline rps (median of per-round pairs)': pairedRatio(create.rps, baseline.rps),
        'get hydrated post / baseline rps (median of per-round pairs)': pairedRatio(read.rps, baseline.rps),
        'author page / baseline rps (median of per-round pairs)': pairedRatio(page.rps, baseline.rps),
        'create post p99 ms': median(create.p99Ms),
        'seconds to drain a create round’s post events (median)': median(drained),
        'get hydrated post p99 ms': median(read.p99Ms),
        'author page p99 ms': median(page.p99Ms),
      },
    };
  } finally {
    if (reused) {
      await reused.stop();
      reused.cleanup();
    }
    await database?.drop();
  }
}
