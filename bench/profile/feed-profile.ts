import { mkdirSync } from 'node:fs';
import { generatePopulation } from '@nova/contracts/seed';
import { deleteRedisPrefix, privateRedisPrefix, TEST_REDIS_URL } from '@nova/kernel/testing';
import { startNova } from '../../test/e2e/harness.js';
import { coldPages } from '../lib/feed-probes.js';
import { interleaved } from '../lib/load.js';
import { loginSeeded } from '../lib/seeded-nova.js';

/**
 * The feed's read path on an already seeded database (BENCH_FEED_DATABASE_URL,
 * seeded with BENCH_FEED_USERS / BENCH_FEED_FOLLOWS like the feed bench): a
 * fresh server, every cold page printed in order (the first reads after the
 * start are the tail), then baseline vs warm ranked page with wrk. With
 * BENCH_PROFILE_DIR the server runs under `node --cpu-prof` (the profile lands
 * there when it stops; bench/profile/cpuprofile-summary.ts summarises it).
 * BENCH_FEED_SHAPES=redis|memory; BENCH_COLD_OFFSET picks unread users.
 */
const env = process.env;
const url = env.BENCH_FEED_DATABASE_URL;
if (!url) throw new Error('BENCH_FEED_DATABASE_URL: a database seeded by nova seed');
const USERS = Number(env.BENCH_FEED_USERS ?? 100_000);
const FOLLOWS = Number(env.BENCH_FEED_FOLLOWS ?? 10_000_000);
const shape = env.BENCH_FEED_SHAPES ?? 'memory';
const coldReaders = Number(env.BENCH_COLD_READERS ?? 20);
const offset = Number(env.BENCH_COLD_OFFSET ?? 5_000);
const dir = env.BENCH_PROFILE_DIR;
if (dir) mkdirSync(dir, { recursive: true });

const prefix = shape === 'redis' ? privateRedisPrefix('profile-feed') : undefined;
const nova = await startNova({
  ...(dir
    ? {
        command: [
          'node',
          '--cpu-prof',
          `--cpu-prof-dir=${dir}`,
          '--import',
          'tsx',
          'apps/nova/src/main.ts',
          'start',
          '--target=all',
        ],
      }
    : {}),
  env: {
    DATABASE_URL: url,
    LOG_LEVEL: env.LOG_LEVEL ?? 'warn',
    RTMP_PORT: String(20_000 + Math.floor(Math.random() * 20_000)),
    FEED_PREWARM_INTERVAL_SECONDS: '3600',
    ...(prefix ? { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix } : {}),
  },
});
try {
  const population = generatePopulation({ users: USERS, seed: 42, avgFollows: FOLLOWS / USERS });
  const viewers: Record<string, string>[] = [];
  for (let i = 0; i < coldReaders; i++)
    viewers.push(await loginSeeded(nova.url, population.user(offset + i).username));
  const cold = await coldPages(nova.url, viewers);
  console.log(JSON.stringify({ shape, coldMs: cold.valuesMs, p50: cold.p50Ms, p99: cold.p99Ms }));
  if (Number(env.BENCH_ROUNDS ?? 1) > 0) {
    const viewer = await loginSeeded(nova.url, population.user(1).username);
    const series = await interleaved(
      [
        { name: 'baseline', url: `${nova.url}/health/live` },
        { name: 'ranked', url: `${nova.url}/api/v1/feed?limit=20`, headers: viewer },
      ],
      {
        rounds: Number(env.BENCH_ROUNDS ?? 1),
        durationSeconds: Number(env.BENCH_SECONDS ?? 5),
        connections: 64,
      },
    );
    for (const s of series)
      console.log(JSON.stringify({ name: s.name, rps: s.rps, p50: s.p50Ms, p99: s.p99Ms }));
  }
} finally {
  await nova.stop();
  nova.cleanup();
  if (prefix) await deleteRedisPrefix(prefix);
}
