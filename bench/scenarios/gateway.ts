import pg from 'pg';
import { type RunningCluster, startCluster } from '../../test/e2e/cluster.js';
import { type RunningNova, signUp, startNova } from '../../test/e2e/harness.js';
import { interleaved, LOAD_GENERATOR, type Target } from '../lib/load.js';
import { type BenchReport, machine, median, pairedRatio } from '../lib/report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const PROBES = Number(process.env.BENCH_LATENCY_PROBES ?? 400);
const AUTHORS = 20;
const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

const SETTINGS = {
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  ARGON2_MEMORY_KIB: '8192',
  ARGON2_TIME_COST: '1',
  REGISTER_MAX_PER_IP: '1000000',
  // The load comes from one address: the gateway's limits would measure themselves.
  NOVA_GATEWAY_RATE_LIMIT_PER_IP: '100000000',
  NOVA_GATEWAY_RATE_LIMIT_PER_USER: '100000000',
};

interface Population {
  headers: Record<string, string>;
}

/** One viewer following AUTHORS accounts with a post each (a full feed page), and one conversation. */
async function populate(base: string, tag: string): Promise<Population> {
  const urlFor = (p: string) => `${base}${p}`;
  const viewer = await signUp(urlFor, `gv${tag}`, 120_000);
  const headers = { authorization: `Bearer ${viewer.token}`, 'content-type': 'application/json' };
  const other = await signUp(urlFor, `go${tag}`, 120_000);
  const created = await fetch(urlFor('/api/v1/conversations'), {
    method: 'POST',
    headers,
    body: JSON.stringify({ memberIds: [other.id] }),
  });
  if (created.status !== 201) throw new Error(`conversation: ${created.status} ${await created.text()}`);
  for (let i = 0; i < AUTHORS; i++) {
    const author = await signUp(urlFor, `ga${i}${tag}`, 120_000);
    const followed = await fetch(urlFor(`/api/v1/users/${author.id}/follow`), { method: 'POST', headers });
    if (followed.status !== 200) throw new Error(`follow: ${followed.status}`);
    const posted = await fetch(urlFor('/api/v1/posts'), {
      method: 'POST',
      headers: { authorization: `Bearer ${author.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: `post ${i}` }),
    });
    if (posted.status !== 201) throw new Error(`post: ${posted.status}`);
  }
  // The feed is built from events: wait until the whole page is there.
  const deadline = Date.now() + 120_000;
  for (;;) {
    const page = await fetch(urlFor('/api/v1/feed?algo=chronological&limit=20'), { headers });
    const { items } = (await page.json()) as { items?: unknown[] };
    if ((items?.length ?? 0) >= AUTHORS) break;
    if (Date.now() > deadline)
      throw new Error(`the feed of ${tag} never filled (${items?.length ?? 0} items)`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return { headers: { authorization: headers.authorization } };
}

/** One request at a time: what the gateway adds to a request that does not queue behind others. */
async function sequentialLatency(url: string, headers: Record<string, string> = {}): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    const t0 = performance.now();
    const answer = await fetch(url, { headers });
    await answer.arrayBuffer();
    times.push(performance.now() - t0);
    if (answer.status !== 200) throw new Error(`${url} answered ${answer.status}`);
  }
  return times.slice(Math.floor(PROBES / 10)); // the first tenth warms connections and JITs
}

/**
 * The gateway's cost, on the split topology of scripts/cluster.sh (a process
 * and a PostgreSQL database per service, Redis, Kafka, gateway) beside the
 * all-in-one process on PostgreSQL:
 * - a trivial upstream route (auth's JWKS document) direct to auth vs through
 *   the gateway: one request at a time (added latency p50/p99) and under load
 *   (the gateway's own ceiling, beside auth's);
 * - the feed page and messaging's conversation list through the gateway vs
 *   the all-in-one process (what a client sees of the whole topology), and
 *   direct to the feed process (what the hop alone costs there).
 */
export async function runGatewayBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const tag = Date.now().toString(36).slice(-5);
  const dbName = `nova_bench_gateway_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  let cluster: RunningCluster | undefined;
  let single: RunningNova | undefined;
  try {
    process.stderr.write('starting the split topology (scripts/cluster.sh up)…\n');
    cluster = await startCluster(`bench_${tag}`, SETTINGS);
    if (!cluster.processes.gateway) throw new Error('this build has no gateway: nothing to measure');
    await admin.query(`CREATE DATABASE ${dbName}`);
    single = await startNova({
      env: { ...SETTINGS, DATABASE_URL: ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`), RTMP_PORT: '0' },
      readyTimeoutMs: 180_000,
    });
    const gateway = cluster.publicUrl;
    const auth = cluster.processes.auth.url;
    const feed = cluster.processes.feed.url;
    const viaGateway = await populate(gateway, `c${tag}`);
    const allInOne = await populate(single.url, `s${tag}`);

    const jwks = '/.well-known/jwks.json';
    const directProbe = await sequentialLatency(`${auth}${jwks}`);
    const gatewayProbe = await sequentialLatency(`${gateway}${jwks}`);
    const feedPage = '/api/v1/feed?algo=chronological&limit=20';
    const feedDirectProbe = await sequentialLatency(`${feed}${feedPage}`, viaGateway.headers);
    const feedGatewayProbe = await sequentialLatency(`${gateway}${feedPage}`, viaGateway.headers);

    const options = { rounds: ROUNDS, durationSeconds: DURATION, connections: CONNECTIONS };
    const targets: Target[] = [
      { name: 'JWKS direct to auth', url: `${auth}${jwks}` },
      { name: 'JWKS through the gateway', url: `${gateway}${jwks}` },
      { name: 'feed page, all-in-one', url: `${single.url}${feedPage}`, headers: allInOne.headers },
      {
        name: 'feed page direct to the feed process',
        url: `${feed}${feedPage}`,
        headers: viaGateway.headers,
      },
      { name: 'feed page through the gateway', url: `${gateway}${feedPage}`, headers: viaGateway.headers },
      {
        name: 'GET /conversations, all-in-one',
        url: `${single.url}/api/v1/conversations`,
        headers: allInOne.headers,
      },
      {
        name: 'GET /conversations through the gateway',
        url: `${gateway}/api/v1/conversations`,
        headers: viaGateway.headers,
      },
    ];
    const series = await interleaved(targets, options);
    const rps = (name: string) => series.find((s) => s.name === name)?.rps ?? [];
    const p = (values: number[], q: number) => Number(percentile(values, q).toFixed(3));
    return {
      scenario: 'gateway',
      startedAt,
      machine: machine(),
      method: [
        `Split topology by scripts/cluster.sh (8 service processes, a PostgreSQL database each, Redis, a Kafka broker of its own, the gateway) beside the all-in-one process on PostgreSQL; LOG_LEVEL=warn.`,
        `Each shape: a viewer following ${AUTHORS} authors with a post each (a full 20-item chronological page) and one conversation, made through the API.`,
        `Added latency: ${PROBES} sequential requests (first tenth dropped) to auth's JWKS document and to the feed page, direct to the service process vs through the gateway.`,
        `Load: ${LOAD_GENERATOR} ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION} s after a warm-up; the load generator shares the cores with the 9 Nova processes, Kafka, PostgreSQL and Redis.`,
        'Loaded machine: other engineers ran tests and benchmarks at the same time; compare series within this report only.',
      ].join(' '),
      series,
      figures: {
        'JWKS direct p50 ms (sequential)': p(directProbe, 50),
        'JWKS direct p99 ms (sequential)': p(directProbe, 99),
        'JWKS through the gateway p50 ms (sequential)': p(gatewayProbe, 50),
        'JWKS through the gateway p99 ms (sequential)': p(gatewayProbe, 99),
        'gateway added latency p50 ms (JWKS)': p(gatewayProbe, 50) - p(directProbe, 50),
        'gateway added latency p99 ms (JWKS)': p(gatewayProbe, 99) - p(directProbe, 99),
        'gateway added latency p50 ms (feed page)': p(feedGatewayProbe, 50) - p(feedDirectProbe, 50),
        'gateway added latency p99 ms (feed page)': p(feedGatewayProbe, 99) - p(feedDirectProbe, 99),
        'gateway ceiling rps (JWKS through the gateway, median)': median(rps('JWKS through the gateway')),
        'gateway / direct rps (JWKS, median of per-round pairs)': pairedRatio(
          rps('JWKS through the gateway'),
          rps('JWKS direct to auth'),
        ),
        'feed page: split via gateway / all-in-one rps': pairedRatio(
          rps('feed page through the gateway'),
          rps('feed page, all-in-one'),
        ),
        'conversations: split via gateway / all-in-one rps': pairedRatio(
          rps('GET /conversations through the gateway'),
          rps('GET /conversations, all-in-one'),
        ),
      },
    };
  } finally {
    await single?.stop();
    single?.cleanup();
    await cluster?.down();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }
}
