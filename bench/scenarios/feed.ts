import { generatePopulation } from '@nova/contracts/seed';
import pg from 'pg';
import { interleaved, LOAD_GENERATOR } from '../lib/load.js';
import { type BenchReport, machine, median, pairedRatio } from '../lib/report.js';
import { runNovaSeed } from '../lib/seed.js';
import { createBenchDatabase, loginSeeded } from '../lib/seeded-nova.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const USERS = Number(process.env.BENCH_USERS ?? 5_000);
const FOLLOWS = Number(process.env.BENCH_FOLLOWS ?? 100_000);
const POSTS = Number(process.env.BENCH_POSTS ?? 50_000);
const COLD_READERS = Number(process.env.BENCH_COLD_READERS ?? 40);
const FANOUT_TARGET = Number(process.env.BENCH_FANOUT_FOLLOWERS ?? 1_000);
const FANOUT_POSTS = Number(process.env.BENCH_FANOUT_POSTS ?? 10);
const SEED = 42;

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

/**
 * The feed on a seeded network (nova seed: accounts, graph, posts, the feed's
 * read model), all-in-one on PostgreSQL with the cache in-process:
 * - warm page: GET /feed (20 hydrated posts, chronological and ranked) of one
 *   viewer at CONNECTIONS connections, beside /health/live, interleaved;
 * - cold page: the first read of COLD_READERS users (no timeline yet: rebuilt
 *   from the read model), one request each;
 * - post → visible: an author with about FANOUT_TARGET followers whose
 *   timelines are built; time from POST /posts to the fan-out having written
 *   every follower's timeline (from /metrics), FANOUT_POSTS posts.
 */
export async function runFeedBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const database = await createBenchDatabase('nova_bench_feed');
  const env = {
    DATABASE_URL: database.url,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    // Live's RTMP ingest is not measured here; a port of its own so a running server cannot block the start.
    RTMP_PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
    // Every seeded follower of the fan-out author gets a built timeline shortly after start.
    FEED_PREWARM_INTERVAL_SECONDS: '3',
    FEED_PREWARM_USERS: String(USERS),
  };
  const db = new pg.Client({ connectionString: database.url });
  try {
    await database.migrate(env);
    const seeded = await runNovaSeed(env, { users: USERS, follows: FOLLOWS, posts: POSTS, seed: SEED });
    const seedSeconds = seeded.seconds;
    process.stderr.write(seeded.stdout);
    const population = generatePopulation({ users: USERS, seed: SEED, avgFollows: FOLLOWS / USERS });
    const { followers } = population.counts();
    let author = 0;
    for (let i = 0; i < USERS; i++)
      if (Math.abs((followers[i] ?? 0) - FANOUT_TARGET) < Math.abs((followers[author] ?? 0) - FANOUT_TARGET))
        author = i;
    const authorFollowers = followers[author] ?? 0;
    // The author's followers have been active: fan-out writes to them and the pre-warm job builds their timelines.
    await db.connect();
    await db.query(
      `INSERT INTO feed.activity (user_id, last_active_at)
       SELECT follower_id, now() FROM feed.follows WHERE followee_id = $1 ON CONFLICT (user_id) DO UPDATE SET last_active_at = now()`,
      [population.userId(author)],
    );

    const { url } = await database.start(env);
    const login = (index: number) => loginSeeded(url, population.user(index).username);
    const metric = async (name: string): Promise<number> => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return Number(line?.split(' ').at(-1) ?? 0);
    };

    // Cold pages: each user's first read rebuilds their timeline.
    const cold: number[] = [];
    for (let i = 0; i < COLD_READERS; i++) {
      const headers = await login(100 + i);
      const t0 = performance.now();
      const answer = await fetch(`${url}/api/v1/feed?algo=chronological&limit=20`, { headers });
      await answer.arrayBuffer();
      cold.push(performance.now() - t0);
      if (answer.status !== 200) throw new Error(`cold feed read answered ${answer.status}`);
    }

    // Post → visible in every (built) follower timeline.
    const authorAuth = await login(author);
    const deadline = Date.now() + 60_000;
    while ((await metric('nova_feed_timeline_rebuilds_total')) < authorFollowers && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    const visible: number[] = [];
    for (let i = 0; i < FANOUT_POSTS; i++) {
      const before = await metric('nova_feed_fanout_writes_total');
      const t0 = performance.now();
      const created = await fetch(`${url}/api/v1/posts`, {
        method: 'POST',
        headers: { ...authorAuth, 'content-type': 'application/json' },
        body: JSON.stringify({ text: `fan-out ${i}` }),
      });
      if (created.status !== 201) throw new Error(`post answered ${created.status}`);
      // Every follower's timeline (and the author's own, when built) has it.
      while ((await metric('nova_feed_fanout_writes_total')) - before < authorFollowers) {
        if (performance.now() - t0 > 30_000) throw new Error('fan-out did not finish within 30 s');
        await new Promise((r) => setTimeout(r, 5));
      }
      visible.push(performance.now() - t0);
    }

    const viewer = await login(1);
    const series = await interleaved(
      [
        { name: 'GET /health/live (baseline)', url: `${url}/health/live` },
        {
          name: 'GET /feed?algo=chronological (20 hydrated posts, warm)',
          url: `${url}/api/v1/feed?algo=chronological&limit=20`,
          headers: viewer,
        },
        {
          name: 'GET /feed (ranked, 20 hydrated posts, warm)',
          url: `${url}/api/v1/feed?limit=20`,
          headers: viewer,
        },
      ],
      { rounds: ROUNDS, durationSeconds: DURATION, connections: CONNECTIONS },
    );
    const [baseline, chrono, ranked] = series as [(typeof series)[0], (typeof series)[0], (typeof series)[0]];
    const hits = await metric('nova_feed_page_cache_lookups_total{result="hit"}');
    const misses = await metric('nova_feed_page_cache_lookups_total{result="miss"}');
    return {
      scenario: 'feed',
      startedAt,
      machine: machine(),
      method: `${USERS} seeded accounts, ${FOLLOWS} follows, ${POSTS} posts over 90 days via \`nova seed\` (auth, social, content and the feed's read model), PostgreSQL 15, cache role in-process, all-in-one server (LOG_LEVEL=${env.LOG_LEVEL}); ${LOAD_GENERATOR} ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION} s after a warm-up, load generator on the same cores. Cold page: the first feed read of ${COLD_READERS} users (timeline rebuilt from the read model), one at a time. Post → visible: ${FANOUT_POSTS} posts by an author with ${authorFollowers} followers whose timelines were built (pre-warm job), from POST to every follower timeline written (nova_feed_fanout_writes_total).`,
      series,
      figures: {
        'seed seconds': seedSeconds,
        'warm chronological page / baseline rps (median of per-round pairs)': pairedRatio(
          chrono.rps,
          baseline.rps,
        ),
        'warm ranked page / baseline rps (median of per-round pairs)': pairedRatio(ranked.rps, baseline.rps),
        'warm chronological page p99 ms': median(chrono.p99Ms),
        'warm ranked page p99 ms': median(ranked.p99Ms),
        'cold page p50 ms': percentile(cold, 50),
        'cold page p99 ms': percentile(cold, 99),
        [`post → visible in ${authorFollowers} followers' timelines p50 ms`]: percentile(visible, 50),
        [`post → visible in ${authorFollowers} followers' timelines p99 ms`]: percentile(visible, 99),
        'page cache hit ratio over the run': hits / Math.max(1, hits + misses),
      },
    };
  } finally {
    await db.end().catch(() => undefined);
    await database.drop();
  }
}
