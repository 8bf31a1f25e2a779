import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import path from 'node:path';
import { type RunningNova, type SignedUp, signUp, startNova } from '../../test/e2e/harness.js';
import { clickhousePidFile, startEngineCpuMeter } from '../lib/engine-cpu.js';
import { interleaved, LOAD_GENERATOR } from '../lib/load.js';
import { type BenchReport, machine, median } from '../lib/report.js';
import { createBenchDatabase } from '../lib/seeded-nova.js';

const SENDERS = Number(process.env.BENCH_SENDERS ?? 8);
const BATCH = Number(process.env.BENCH_BATCH ?? 500);
const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
const LAG_BATCH = 50;
/** BENCH_CLICKHOUSE_URL runs the server shape (e.g. scripts/clickhouse.sh's); unset: embedded chDB. */
const CLICKHOUSE_URL = process.env.BENCH_CLICKHOUSE_URL;
/** BENCH_KAFKA_BROKERS: the log is Kafka (built-in relay) instead of the outbox tables. */
const KAFKA_BROKERS = process.env.BENCH_KAFKA_BROKERS;
/** BENCH_POSTGRES=1: PostgreSQL (BENCH_PG_ADMIN_URL, a database of its own, dropped after) instead of PGlite. */
const POSTGRES = process.env.BENCH_POSTGRES === '1';
/** BENCH_CPU_PROFILE_DIR: the server runs with `node --cpu-prof` and writes its profile there on exit. */
const CPU_PROFILE_DIR = process.env.BENCH_CPU_PROFILE_DIR;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function call(nova: RunningNova, method: string, path: string, token: string, body?: unknown) {
  const response = await fetch(`${nova.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

/** Bodies prepared before the saturation phase; more are made on the fly if it needs more. */
const PREPARED_BODIES = Number(process.env.BENCH_PREPARED_BODIES ?? 600);

async function postRaw(nova: RunningNova, path: string, token: string, body: string) {
  const response = await fetch(`${nova.url}/api/v1${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const views = (postId: string, n: number) =>
  Array.from({ length: n }, () => ({ id: randomUUID(), type: 'view', ts: new Date().toISOString(), postId }));

/** Views of the post as the author's insights show them (the rollup, queryable). */
async function visibleViews(nova: RunningNova, author: SignedUp, postId: string): Promise<number> {
  const answer = await call(nova, 'GET', `/analytics/posts/${postId}`, author.token);
  return answer.status === 200 ? Number(answer.body.views) : -1;
}

async function waitForViews(
  nova: RunningNova,
  author: SignedUp,
  postId: string,
  n: number,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await visibleViews(nova, author, postId);
    if (seen >= n) return Date.now();
    if (Date.now() > deadline) throw new Error(`only ${seen} of ${n} views visible after ${timeoutMs} ms`);
    await sleep(20);
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

/**
 * Client events from HTTP ingest to a queryable rollup: saturation
 * (SENDERS users posting batches of BATCH unique views, then until the
 * author's insights show them all), and the commit → insights lag at half
 * of that rate (one user, so one log key and its order; the lag of a batch =
 * first time the insights show its last event − the 202 answer).
 */
export async function runAnalyticsBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const benchDatabase = `nova_bench_${Date.now()}`;
  const postgres = POSTGRES ? await createBenchDatabase('nova_bench_analytics') : undefined;
  const env: Record<string, string> = {
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ARGON2_MEMORY_KIB: '8192',
    ARGON2_TIME_COST: '1',
    REGISTER_MAX_PER_IP: '1000',
    ...(CLICKHOUSE_URL ? { CLICKHOUSE_URL, CLICKHOUSE_DATABASE: benchDatabase } : {}),
    ...(KAFKA_BROKERS ? { KAFKA_BROKERS } : {}),
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
  };
  // `npm start`'s command, profiled (Node refuses --cpu-prof in NODE_OPTIONS).
  const command = CPU_PROFILE_DIR
    ? [
        'node',
        '--cpu-prof',
        `--cpu-prof-dir=${CPU_PROFILE_DIR}`,
        '--import',
        'tsx',
        'apps/nova/src/main.ts',
        'start',
        '--target=all',
      ]
    : undefined;
  if (postgres) await postgres.migrate(env);
  const nova = postgres ? await postgres.start(env, command) : await startNova({ env, command });
  const loadBefore = loadavg()[0] ?? 0;
  try {
    const url = (p: string) => `${nova.url}${p}`;
    const run = randomUUID().slice(0, 6);
    const author = await signUp(url, `a${run}`);
    const viewers = await Promise.all(Array.from({ length: SENDERS }, (_, i) => signUp(url, `v${run}_${i}`)));
    const post = await call(nova, 'POST', '/posts', author.token, { text: 'the analytics bench post' });
    const postId = post.body.id as string;
    const deadline = Date.now() + 30_000;
    while ((await visibleViews(nova, author, postId)) < 0) {
      if (Date.now() > deadline) throw new Error('the post never reached the analytics store');
      await sleep(100);
    }

    const [baseline] = await interleaved(
      [{ name: 'GET /health/live (baseline)', url: `${nova.url}/health/live` }],
      {
        rounds: 1,
        durationSeconds: 5,
        connections: 32,
      },
    );

    // Request bodies made before the clock starts: the load generator shares the cores with the server.
    const bodies = Array.from({ length: PREPARED_BODIES }, () =>
      JSON.stringify({ events: views(postId, BATCH) }),
    );
    const nextBody = () => bodies.pop() ?? JSON.stringify({ events: views(postId, BATCH) });
    const cpuMeter = await startEngineCpuMeter({
      serverPid: nova.pid(),
      ...(postgres ? { postgres: { adminUrl: postgres.adminUrl, database: postgres.name } } : {}),
      pidFiles: CLICKHOUSE_URL ? { 'clickhouse server': clickhousePidFile(CLICKHOUSE_URL) } : {},
      sharedPidFiles:
        KAFKA_BROKERS && process.env.NOVA_KAFKA_STATE
          ? { 'kafka broker': path.join(process.env.NOVA_KAFKA_STATE, 'kafka.pid') }
          : {},
    });

    // Saturation: closed loop, every sender as fast as the server answers.
    let accepted = 0;
    let requests = 0;
    const ingestMs: number[] = [];
    const started = Date.now();
    await Promise.all(
      viewers.map(async (viewer) => {
        while (Date.now() - started < DURATION_MS) {
          const t0 = Date.now();
          const answer = await postRaw(nova, '/events', viewer.token, nextBody());
          if (answer.status !== 202) throw new Error(`POST /events answered ${answer.status}`);
          ingestMs.push(Date.now() - t0);
          accepted += Number(answer.body.accepted);
          requests += 1;
        }
      }),
    );
    const sentAt = Date.now();
    const visibleAt = await waitForViews(nova, author, postId, accepted, 600_000);
    const cpu = await cpuMeter();
    const ingestRate = accepted / ((sentAt - started) / 1000);
    const endToEndRate = accepted / ((visibleAt - started) / 1000);

    // Half of the end-to-end rate, open loop, one user; a poller records when each batch shows.
    const target = endToEndRate / 2;
    const lagViewer = viewers[0] as SignedUp;
    const base = await visibleViews(nova, author, postId);
    const seen: { at: number; views: number }[] = [];
    const pollMs: number[] = [];
    let polling = true;
    let pollFailure: unknown;
    const poller = (async () => {
      while (polling) {
        const askedAt = Date.now();
        const shown = await visibleViews(nova, author, postId);
        // A poll's answer is as old as the poll took: the query's own time is part of each lag.
        pollMs.push(Date.now() - askedAt);
        seen.push({ at: Date.now(), views: shown });
        await sleep(10);
      }
    })().catch((error: unknown) => {
      // Kept for after the send loop: rejected unobserved, it would end the bench before its cleanup.
      pollFailure = error;
    });
    const intervalMs = (LAG_BATCH / target) * 1000;
    const lagStart = Date.now();
    // In send order: a batch's events are visible once every accepted batch up to it is.
    const answers: { answeredAt: number; accepted: number }[] = [];
    const inFlight: Promise<void>[] = [];
    for (let i = 0; Date.now() - lagStart < DURATION_MS; i++) {
      const due = lagStart + i * intervalMs;
      if (due > Date.now()) await sleep(due - Date.now());
      inFlight.push(
        call(nova, 'POST', '/events', lagViewer.token, { events: views(postId, LAG_BATCH) }).then(
          (answer) => {
            // A refused batch (503 when the server is overloaded) stores nothing and has no lag.
            answers[i] = {
              answeredAt: Date.now(),
              accepted: answer.status === 202 ? Number(answer.body.accepted) : 0,
            };
          },
        ),
      );
    }
    await Promise.all(inFlight);
    let upTo = base;
    const batches = answers.flatMap((answer) => {
      upTo += answer.accepted;
      return answer.accepted > 0 ? [{ answeredAt: answer.answeredAt, upTo }] : [];
    });
    const refused = answers.filter((answer) => answer.accepted === 0).length;
    await waitForViews(nova, author, postId, upTo, 120_000);
    await sleep(50);
    polling = false;
    await poller;
    if (pollFailure) throw pollFailure;
    const lags = batches.map((b) => {
      const shown = seen.find((s) => s.views >= b.upTo && s.at >= b.answeredAt);
      return (shown?.at ?? Date.now()) - b.answeredAt;
    });

    const loadAfter = loadavg()[0] ?? 0;
    if (CPU_PROFILE_DIR) {
      // The saturation phase's window in the profile, for cpuprofile-summary's last= and skip=.
      const endsBeforeStop = (Date.now() - visibleAt) / 1000;
      process.stderr.write(
        `profile window: last=${((visibleAt - started) / 1000).toFixed(1)} skip=${endsBeforeStop.toFixed(1)} (+ shutdown)\n`,
      );
    }
    return {
      scenario: 'analytics',
      startedAt,
      machine: machine(),
      method: `all-in-one server (${CLICKHOUSE_URL ? 'ClickHouse server at BENCH_CLICKHOUSE_URL' : 'embedded chDB'}, ${postgres ? 'PostgreSQL' : 'PGlite'}, ${KAFKA_BROKERS ? 'Kafka log (built-in relay)' : 'embedded log'}), load average ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after, LOG_LEVEL=${process.env.LOG_LEVEL ?? 'warn'}. Baseline: ${LOAD_GENERATOR} GET /health/live, 32 connections, 5 s. Saturation: ${SENDERS} users posting batches of ${BATCH} unique view events for ${DURATION_MS / 1000} s (closed loop), then until the author's GET /analytics/posts/{id} shows them all. Lag: open loop at half the end-to-end rate, batches of ${LAG_BATCH} from one user, insights polled every ~10 ms; lag = first poll showing the batch − its 202. Load generator on the same cores; saturation request bodies made before the clock starts. CPU per event of the saturation phase (send + drain) from /proc: the server process tree, the PostgreSQL backends of the bench database, the ClickHouse server, the Kafka broker (shared with other users of the machine: an upper bound) and the load generator.`,
      series: [baseline as NonNullable<typeof baseline>],
      figures: {
        'events accepted (saturation)': accepted,
        'POST /events requests/s / baseline rps':
          requests / ((sentAt - started) / 1000) / median(baseline?.rps ?? [1]),
        'ingest events/s (HTTP, accepted)': Math.round(ingestRate),
        'ingest events/s / baseline rps': ingestRate / median(baseline?.rps ?? [1]),
        'end-to-end events/s / baseline rps': endToEndRate / median(baseline?.rps ?? [1]),
        'end-to-end events/s (ingest → queryable rollup)': Math.round(endToEndRate),
        'POST /events (500 events) p99 ms': percentile(ingestMs, 99),
        'rollup visible after the last 202, ms': visibleAt - sentAt,
        'lag run target events/s': Math.round(target),
        'lag p50 ms (commit → insights)': percentile(lags, 50),
        'lag p99 ms (commit → insights)': percentile(lags, 99),
        'lag run requests refused (not 202)': refused,
        'insights poll during the lag run p50 ms': percentile(pollMs, 50),
        'insights poll during the lag run p99 ms': percentile(pollMs, 99),
        ...Object.fromEntries(
          Object.entries(cpu).map(([engine, ms]) => [
            `saturation CPU µs per event: ${engine}`,
            Math.round(((ms * 1000) / Math.max(1, accepted)) * 10) / 10,
          ]),
        ),
      },
    };
  } catch (error) {
    // The server's last words: a server that died mid-run says why only there.
    process.stderr.write(`server output (tail):\n${nova.output().slice(-6000)}\n`);
    throw error;
  } finally {
    if (postgres) await postgres.drop();
    else {
      await nova.stop();
      nova.cleanup();
    }
    if (CLICKHOUSE_URL)
      await fetch(CLICKHOUSE_URL, { method: 'POST', body: `DROP DATABASE IF EXISTS ${benchDatabase}` });
  }
}
