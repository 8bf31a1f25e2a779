import os from 'node:os';
import { generatePopulation } from '@nova/contracts/seed';
import { deleteRedisPrefix, privateRedisPrefix, TEST_REDIS_URL } from '@nova/kernel/testing';
import pg from 'pg';
import { startNova } from '../../test/e2e/harness.js';
import {
  coldPages,
  fanoutReach,
  type Latencies,
  metric,
  postToVisible,
  untilSteady,
} from '../lib/feed-probes.js';
import { interleaved, LOAD_GENERATOR } from '../lib/load.js';
import {
  type BenchReport,
  type LatencyFigure,
  machine,
  median,
  pairedRatio,
  type Series,
} from '../lib/report.js';
import { runNovaSeed } from '../lib/seed.js';
import { createBenchDatabase, loginSeeded } from '../lib/seeded-nova.js';

const env = process.env;
const ROUNDS = Number(env.BENCH_ROUNDS ?? 3);
const DURATION = Number(env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 64);
// The issue's network by default; smaller ones for a quick look.
const USERS = Number(env.BENCH_FEED_USERS ?? 100_000);
const FOLLOWS = Number(env.BENCH_FEED_FOLLOWS ?? 10_000_000);
const POSTS = Number(env.BENCH_FEED_POSTS ?? 1_000_000);
/** An already seeded database (same size and seed) to measure on instead of seeding one; it is kept. */
const REUSE_URL = env.BENCH_FEED_DATABASE_URL;
const SHAPES = (env.BENCH_FEED_SHAPES ?? 'redis,memory').split(',') as ShapeName[];
const COLD_READERS = Number(env.BENCH_COLD_READERS ?? 40);
const FANOUT_POSTS = Number(env.BENCH_FANOUT_POSTS ?? 10);
const FANOUT_TARGETS = (env.BENCH_FANOUT_FOLLOWERS ?? '1000,10000').split(',').map(Number);
/** The server's default FEED_CELEBRITY_FOLLOWERS: authors at or above it are merged at read time, not fanned out. */
const CELEBRITY = 10_000;
/**
 * The pre-warm job's first run (it does not run at start): the warm and cold
 * series are measured before it, the fan-out after it has built the
 * followers' timelines, so its passes never overlap a wrk series.
 */
const PREWARM_SECONDS = Number(env.BENCH_FEED_PREWARM_SECONDS ?? 150);
/**
 * Timelines the pre-warm run builds per author beyond the first one's: the
 * job rebuilds one timeline at a time (~8/s on the loaded 2-core machine), so
 * every follower of the first author is built, and of the larger authors the
 * most recently active BENCH_FEED_PREWARM_EXTRA. Fan-out walks every follower
 * either way; an unbuilt timeline is rebuilt from the read model, which holds
 * the post before fan-out starts, on its owner's next read.
 */
const PREWARM_EXTRA = Number(env.BENCH_FEED_PREWARM_EXTRA ?? 1_000);
const SEED = 42;

type ShapeName = 'redis' | 'memory';
const SHAPE_LABEL: Record<ShapeName, string> = {
  redis: 'PostgreSQL + Redis',
  memory: 'all-in-one (PostgreSQL, in-process cache + log)',
};

interface Author {
  id: string;
  username: string;
  followers: number;
}

/** The fanned-out author (below the celebrity threshold) whose follower count is nearest `target`. */
async function authorNear(db: pg.Client, target: number): Promise<Author> {
  const { rows } = await db.query<{ author_id: string; follower_count: number; username: string }>(
    `SELECT a.author_id, a.follower_count, u.username FROM feed.authors a JOIN auth.users u ON u.id::text = a.author_id
      WHERE a.follower_count < $2 ORDER BY abs(a.follower_count - $1), a.author_id LIMIT 1`,
    [target, CELEBRITY],
  );
  const row = rows[0];
  if (!row) throw new Error(`no author near ${target} followers`);
  return { id: row.author_id, username: row.username, followers: row.follower_count };
}

interface ShapeResult {
  series: Series[];
  latencies: LatencyFigure[];
  figures: Record<string, number | string>;
}

/**
 * One deployment shape on the seeded database: a fresh server (empty cache),
 * cold pages, then warm page / hot social reads / baseline interleaved, then
 * (after the pre-warm job built the authors' followers' timelines) post → visible.
 */
async function measureShape(
  shape: ShapeName,
  shapeIndex: number,
  databaseUrl: string,
  authors: Author[],
  celebrity: string,
  prewarmUsers: number,
): Promise<ShapeResult> {
  const label = SHAPE_LABEL[shape];
  const prefix = shape === 'redis' ? privateRedisPrefix('bench-feed') : undefined;
  const nova = await startNova({
    env: {
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
      // Live's RTMP ingest is not measured here; a port of its own so a running server cannot block the start.
      RTMP_PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
      FEED_PREWARM_INTERVAL_SECONDS: String(PREWARM_SECONDS),
      FEED_PREWARM_USERS: String(prewarmUsers),
      ...(prefix ? { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}),
    },
  });
  const startedAt = Date.now();
  const population = generatePopulation({ users: USERS, seed: SEED, avgFollows: FOLLOWS / USERS });
  const url = nova.url;
  try {
    const login = (username: string) => loginSeeded(url, username);
    const base = 1_000 + shapeIndex * COLD_READERS;
    const coldViewers: Record<string, string>[] = [];
    for (let i = 0; i < COLD_READERS; i++) coldViewers.push(await login(population.user(base + i).username));
    const cold = await coldPages(url, coldViewers);
    const viewer = await login(population.user(1).username);
    const rebuildsBefore = await metric(url, 'nova_feed_timeline_rebuilds_total');

    const series = await interleaved(
      [
        { name: 'GET /health/live (baseline)', url: `${url}/health/live` },
        {
          name: 'GET /feed (ranked, 20 hydrated posts, warm)',
          url: `${url}/api/v1/feed?limit=20`,
          headers: viewer,
        },
        {
          name: 'GET /feed?algo=chronological (20 hydrated posts, warm)',
          url: `${url}/api/v1/feed?algo=chronological&limit=20`,
          headers: viewer,
        },
        {
          name: 'GET /users/{username} (profile + relationship, cached)',
          url: `${url}/api/v1/users/${celebrity}`,
          headers: viewer,
        },
      ],
      { rounds: ROUNDS, durationSeconds: DURATION, connections: CONNECTIONS },
    );
    for (const s of series) s.group = label;
    const [baseline, ranked, chrono, social] = series as [Series, Series, Series, Series];
    // The viewer's first page rebuilt one timeline; any more means the pre-warm job ran under load.
    const rebuildsDuringLoad = (await metric(url, 'nova_feed_timeline_rebuilds_total')) - rebuildsBefore - 1;
    const hits = await metric(url, 'nova_feed_page_cache_lookups_total{result="hit"}');
    const misses = await metric(url, 'nova_feed_page_cache_lookups_total{result="miss"}');
    const loadedAt = Date.now();

    // The pre-warm job's first run rebuilds every active user's timeline (the authors' followers).
    const untilPrewarm = startedAt + PREWARM_SECONDS * 1000 - Date.now();
    if (untilPrewarm > 0) await new Promise((r) => setTimeout(r, untilPrewarm));
    const prewarmStart = Date.now();
    const rebuilt = await untilSteady(() => metric(url, 'nova_feed_timeline_rebuilds_total'), {
      quietMs: 5_000,
      everyMs: 500,
      timeoutMs: 900_000,
    });
    const prewarmSeconds = (Date.now() - prewarmStart) / 1000 - 5;

    const latencies: LatencyFigure[] = [
      { name: 'cold feed page (timeline rebuilt from the read model)', group: label, ...pick(cold) },
    ];
    const figures: Record<string, number | string> = {
      [`${label}: warm ranked page / baseline rps`]: pairedRatio(ranked.rps, baseline.rps),
      [`${label}: warm ranked page p50 ms`]: median(ranked.p50Ms),
      [`${label}: warm ranked page p99 ms`]: median(ranked.p99Ms),
      [`${label}: warm chronological page / baseline rps`]: pairedRatio(chrono.rps, baseline.rps),
      [`${label}: warm chronological page p50 ms`]: median(chrono.p50Ms),
      [`${label}: warm chronological page p99 ms`]: median(chrono.p99Ms),
      [`${label}: hot profile + relationship / baseline rps`]: pairedRatio(social.rps, baseline.rps),
      [`${label}: hot profile + relationship p99 ms`]: median(social.p99Ms),
      [`${label}: cold page p50 ms (${cold.samples} first reads)`]: cold.p50Ms,
      [`${label}: cold page p99 ms (${cold.samples} first reads)`]: cold.p99Ms,
      [`${label}: page cache hit ratio during the warm series`]: hits / Math.max(1, hits + misses),
      [`${label}: timelines rebuilt by other work during the wrk series (should be 0)`]: rebuildsDuringLoad,
      [`${label}: seconds from the end of the wrk series to the pre-warm run`]:
        (prewarmStart - loadedAt) / 1000,
      [`${label}: timelines the pre-warm run rebuilt`]: rebuilt - rebuildsBefore - 1,
      [`${label}: pre-warm run seconds (about)`]: prewarmSeconds,
    };
    const samples: Record<string, number[]> = { [`${label}: cold page ms`]: cold.valuesMs };

    for (const author of authors) {
      const headers = await login(author.username);
      // A first post tells how many timelines one reaches (built timelines of active followers, and the author's).
      const reach = await fanoutReach(url, headers);
      const visible = await postToVisible(url, headers, {
        posts: FANOUT_POSTS,
        receivers: reach,
        timeoutMs: 60_000,
      });
      const name = `post → visible in every follower timeline, author with ${author.followers} followers`;
      latencies.push({ name, group: label, ...pick(visible) });
      figures[`${label}: ${name}: timelines reached per post`] = reach;
      figures[`${label}: ${name}: p50 ms`] = visible.p50Ms;
      figures[`${label}: ${name}: p99 ms`] = visible.p99Ms;
      samples[`${label}: ${name} ms`] = visible.valuesMs;
    }
    figures[`${label}: load average (1 min) at the end`] = os.loadavg()[0] ?? 0;
    for (const [k, v] of Object.entries(samples)) figures[`${k} (every sample)`] = v.join(', ');
    return { series, latencies, figures };
  } finally {
    await nova.stop();
    nova.cleanup();
    if (prefix) await deleteRedisPrefix(prefix);
  }
}

const pick = (l: Latencies) => ({ samples: l.samples, p50Ms: l.p50Ms, p99Ms: l.p99Ms });

/**
 * The feed on the issue's seeded network (nova seed: accounts, graph, posts
 * and the feed's read model, COPY / bulk inserts), measured on each shape in
 * turn against one database: PostgreSQL + Redis (cache role in Redis), and
 * the all-in-one process on PostgreSQL with its cache and event log in-process.
 */
export async function runFeedBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const loadAverages: number[] = [os.loadavg()[0] ?? 0];
  const database = REUSE_URL ? undefined : await createBenchDatabase('nova_bench_feed');
  const databaseUrl = REUSE_URL ?? (database?.url as string);
  const db = new pg.Client({ connectionString: databaseUrl });
  let seedSeconds = 0;
  try {
    if (database) {
      const seedEnv = { DATABASE_URL: databaseUrl, LOG_LEVEL: env.LOG_LEVEL ?? 'warn' };
      await database.migrate(seedEnv);
      const seeded = await runNovaSeed(seedEnv, { users: USERS, follows: FOLLOWS, posts: POSTS, seed: SEED });
      seedSeconds = seeded.seconds;
      process.stderr.write(seeded.stdout);
    }
    loadAverages.push(os.loadavg()[0] ?? 0);
    await db.connect();
    const authors: Author[] = [];
    for (const target of FANOUT_TARGETS) authors.push(await authorNear(db, target));
    const { rows: top } = await db.query<{ username: string; follower_count: number }>(
      `SELECT u.username, a.follower_count FROM feed.authors a JOIN auth.users u ON u.id::text = a.author_id
        ORDER BY a.follower_count DESC LIMIT 1`,
    );
    const celebrity = top[0];
    if (!celebrity) throw new Error('the seeded network has no followed account');
    // The authors' followers have all been active (fan-out writes to them); the first author's most
    // recently, so the pre-warm run (most recent first) builds all of theirs and PREWARM_EXTRA more.
    await db.query('DELETE FROM feed.activity');
    for (const [i, author] of [...authors].reverse().entries())
      await db.query(
        `INSERT INTO feed.activity (user_id, last_active_at)
         SELECT follower_id, now() - make_interval(secs => $2 * 60) + (random() * interval '1 second')
           FROM feed.follows WHERE followee_id = $1
         ON CONFLICT (user_id) DO UPDATE SET last_active_at = EXCLUDED.last_active_at`,
        [author.id, authors.length - 1 - i],
      );
    const firstFollowers = authors[0]?.followers ?? 0;
    // + the cold readers and the warm viewer, whose reads made them the most recent of all.
    const prewarmUsers = firstFollowers + PREWARM_EXTRA + COLD_READERS + 1;

    const series: Series[] = [];
    const latencies: LatencyFigure[] = [];
    const figures: Record<string, number | string> = { 'seed seconds (nova seed, all hooks)': seedSeconds };
    for (const [i, shape] of SHAPES.entries()) {
      const result = await measureShape(shape, i, databaseUrl, authors, celebrity.username, prewarmUsers);
      // A shape takes minutes on a loaded machine: its figures are on stderr before the next one starts.
      process.stderr.write(
        `${JSON.stringify({ shape, figures: result.figures, latencies: result.latencies })}\n`,
      );
      series.push(...result.series);
      latencies.push(...result.latencies);
      Object.assign(figures, result.figures);
      loadAverages.push(os.loadavg()[0] ?? 0);
    }
    figures['load average (1 min): start, after seeding, after each shape'] = loadAverages
      .map((l) => l.toFixed(1))
      .join(', ');
    return {
      scenario: 'feed',
      startedAt,
      machine: machine(),
      method: [
        `${USERS} seeded accounts, ${FOLLOWS} follows (power-law), ${POSTS} posts over 90 days via \`nova seed\``,
        `(auth, social, content and the feed's read model${REUSE_URL ? '; a database seeded before this run' : ''}), PostgreSQL 15.`,
        `Each shape is a fresh \`npm start\` process (every service, LOG_LEVEL=${env.LOG_LEVEL ?? 'warn'}) on that database:`,
        SHAPES.map((s) => SHAPE_LABEL[s]).join('; '),
        `(PGlite was not measured at this size). ${LOAD_GENERATOR} ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION} s after a warm-up,`,
        "load generator on the same 2 cores; the warm page is one viewer's (its timeline built by its first read), the hot social read is",
        `GET /users/{username} of the most followed account (${celebrity.follower_count} followers).`,
        `Cold page: the first feed read of ${COLD_READERS} other users, one at a time, on the fresh process (empty cache).`,
        `Post → visible: every follower of the authors marked active; the pre-warm job (first run ${PREWARM_SECONDS} s after start, so it never overlaps a wrk series)`,
        `built the timelines of the ${prewarmUsers} most recently active users: all followers of the first author and about ${PREWARM_EXTRA} of the others'`,
        `(it rebuilds one timeline at a time; an unbuilt timeline is rebuilt from the read model, which already holds the post, on its owner's next read).`,
        `${FANOUT_POSTS} posts per author, one at a time, from POST /posts to the fan-out having walked every follower and written every built timeline one post reaches`,
        '(nova_feed_fanout_writes_total, polled every 10 ms; the reach is counted with a first post).',
        `Authors: ${authors.map((a) => `${a.followers} followers`).join(', ')} (nearest to ${FANOUT_TARGETS.join(' and ')} below the celebrity threshold ${CELEBRITY}, so fanned out).`,
      ].join(' '),
      series,
      latencies,
      figures,
    };
  } finally {
    await db.end().catch(() => undefined);
    await database?.drop();
  }
}
