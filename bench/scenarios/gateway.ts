import pg from 'pg';
import { type RunningCluster, startCluster } from '../../test/e2e/cluster.js';
import { type RunningNova, signUp, startNova } from '../../test/e2e/harness.js';
import { interleaved, LOAD_GENERATOR, type Target } from '../lib/load.js';
import { type BenchReport, machine, median, pairedRatio, percentile, type Series } from '../lib/report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_SECONDS ?? 4);
// Few: on 2 shared cores more connections only measure queueing and wrk's timeouts.
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const PROBES = Number(process.env.BENCH_LATENCY_PROBES ?? 400);
const AUTHORS = 20;
/** Writers per write series: each a closed loop (send, await the answer, send the next). */
const WRITERS = Number(process.env.BENCH_WRITERS ?? 8);
const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const SETTINGS = {
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  ARGON2_MEMORY_KIB: '8192',
  ARGON2_TIME_COST: '1',
  REGISTER_MAX_PER_IP: '1000000',
  // The load comes from one address: the gateway's limits would measure themselves.
  NOVA_GATEWAY_RATE_LIMIT_PER_IP: '10000000',
  NOVA_GATEWAY_RATE_LIMIT_PER_USER: '10000000',
};

interface Population {
  headers: Record<string, string>;
  /** One of the viewer's authors: its posts fan out to the viewer's feed. */
  authorHeaders: Record<string, string>;
  conversationId: string;
}

/** One viewer following AUTHORS accounts with a post each (a full feed page), and one conversation. */
async function populate(base: string, tag: string): Promise<Population> {
  const urlFor = (p: string) => `${base}${p}`;
  const viewer = await signUp(urlFor, `gv${tag}`, 120_000);
  const headers = { authorization: `Bearer ${viewer.token}`, 'content-type': 'application/json' };
  const other = await signUp(urlFor, `go${tag}`, 120_000);
  for (const who of [viewer, other]) {
    const keys = await fetch(urlFor('/api/v1/keys'), {
      method: 'PUT',
      headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        deviceId: 'd',
        identityKey: 'aWRlbnRpdHk=',
        signedPreKey: 'c2lnbmVk',
        oneTimePreKeys: [],
      }),
    });
    if (keys.status >= 300) throw new Error(`keys: ${keys.status} ${await keys.text()}`);
  }
  const created = await fetch(urlFor('/api/v1/conversations'), {
    method: 'POST',
    headers,
    body: JSON.stringify({ memberIds: [other.id] }),
  });
  if (created.status !== 201) throw new Error(`conversation: ${created.status} ${await created.text()}`);
  const conversationId = ((await created.json()) as { id: string }).id;
  // The write series send messages of this shape: one now, so a refusal stops the run before the load.
  const sent = await fetch(urlFor(`/api/v1/conversations/${conversationId}/messages`), {
    method: 'POST',
    headers,
    body: JSON.stringify({
      clientMessageId: `first${tag}`,
      envelopes: [{ deviceId: 'd', ciphertext: Buffer.from('first').toString('base64') }],
    }),
  });
  if (sent.status !== 201) throw new Error(`message: ${sent.status} ${await sent.text()}`);
  let authorHeaders: Record<string, string> = {};
  for (let i = 0; i < AUTHORS; i++) {
    const author = await signUp(urlFor, `ga${i}${tag}`, 120_000);
    authorHeaders = { authorization: `Bearer ${author.token}`, 'content-type': 'application/json' };
    // No body, so no content-type: an empty JSON body is a 400.
    const followed = await fetch(urlFor(`/api/v1/users/${author.id}/follow`), {
      method: 'POST',
      headers: { authorization: headers.authorization },
    });
    if (followed.status !== 200) throw new Error(`follow: ${followed.status} ${await followed.text()}`);
    const posted = await fetch(urlFor('/api/v1/posts'), {
      method: 'POST',
      headers: { authorization: `Bearer ${author.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: `post ${i}` }),
    });
    if (posted.status !== 201) throw new Error(`post: ${posted.status} ${await posted.text()}`);
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
  return { headers: { authorization: headers.authorization }, authorHeaders, conversationId };
}

/**
 * WRITERS closed loops for `seconds`, each request a new write (`bodyOf(n)`
 * unique): wrk repeats one body, which a write path would answer as a replay.
 */
async function writeLoop(
  url: string,
  headers: Record<string, string>,
  bodyOf: (n: number) => string,
  seconds: number,
): Promise<{ rps: number; p50: number; p99: number; failed: number; kinds: Record<string, number> }> {
  const times: number[] = [];
  const kinds: Record<string, number> = {};
  let failed = 0;
  let n = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const answer = await fetch(url, { method: 'POST', headers, body: bodyOf(n++) }).catch(
          () => undefined,
        );
        await answer?.arrayBuffer();
        if (answer?.status === 201) times.push(performance.now() - t0);
        else {
          failed++;
          const kind = answer ? `status ${answer.status}` : 'no answer';
          kinds[kind] = (kinds[kind] ?? 0) + 1;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    rps: times.length / elapsed,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    failed,
    kinds,
  };
}

/** The write targets in interleaved rounds (a warm-up second each first), like the read series. */
async function writeSeries(
  targets: Array<{
    name: string;
    url: string;
    headers: Record<string, string>;
    bodyOf: (n: number) => string;
  }>,
): Promise<Series[]> {
  const series = targets.map(
    (t): Required<Omit<Series, 'group'>> => ({
      name: t.name,
      rps: [],
      p50Ms: [],
      p99Ms: [],
      failures: [],
      failureKinds: {},
    }),
  );
  for (const t of targets) await writeLoop(t.url, t.headers, t.bodyOf, 1);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, t] of targets.entries()) {
      const result = await writeLoop(t.url, t.headers, t.bodyOf, DURATION);
      const s = series[i];
      s?.rps.push(Number(result.rps.toFixed(1)));
      s?.p50Ms.push(Number(result.p50.toFixed(1)));
      s?.p99Ms.push(Number(result.p99.toFixed(1)));
      s?.failures.push(result.failed);
      for (const [kind, count] of Object.entries(result.kinds))
        if (s) s.failureKinds[kind] = (s.failureKinds[kind] ?? 0) + count;
      // What the writes set off (fan-out, notifications) runs behind them: let it pass before the next series.
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  return series;
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
    // The all-in-one shape first: it is quicker to start, so a population that fails fails early.
    await admin.query(`CREATE DATABASE ${dbName}`);
    single = await startNova({
      env: { ...SETTINGS, DATABASE_URL: ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`), RTMP_PORT: '0' },
      readyTimeoutMs: 180_000,
    });
    const allInOne = await populate(single.url, `s${tag}`);
    process.stderr.write('starting the split topology (scripts/cluster.sh up)…\n');
    cluster = await startCluster(`bench_${tag}`, SETTINGS);
    if (!cluster.processes.gateway) throw new Error('this build has no gateway: nothing to measure');
    const gateway = cluster.publicUrl;
    const auth = cluster.processes.auth.url;
    const feed = cluster.processes.feed.url;
    const viaGateway = await populate(gateway, `c${tag}`);

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
    const post = (n: number) => JSON.stringify({ text: `bench write ${tag} ${n}` });
    const message = (n: number) =>
      JSON.stringify({
        clientMessageId: `w${tag}${n}`,
        envelopes: [{ deviceId: 'd', ciphertext: Buffer.from(`message ${n}`).toString('base64') }],
      });
    const writes = await writeSeries([
      {
        name: 'POST /posts, all-in-one',
        url: `${single.url}/api/v1/posts`,
        headers: allInOne.authorHeaders,
        bodyOf: post,
      },
      {
        name: 'POST /posts through the gateway',
        url: `${gateway}/api/v1/posts`,
        headers: viaGateway.authorHeaders,
        bodyOf: post,
      },
      {
        name: 'POST message, all-in-one',
        url: `${single.url}/api/v1/conversations/${allInOne.conversationId}/messages`,
        headers: { ...allInOne.headers, 'content-type': 'application/json' },
        bodyOf: message,
      },
      {
        name: 'POST message through the gateway',
        url: `${gateway}/api/v1/conversations/${viaGateway.conversationId}/messages`,
        headers: { ...viaGateway.headers, 'content-type': 'application/json' },
        bodyOf: message,
      },
    ]);
    const write = (name: string) => writes.find((w) => w.name === name) as Series;
    const ms = (values: number[]) => median(values).toFixed(1);
    const failed = (name: string) => (write(name).failures ?? []).reduce((a, b) => a + b, 0);
    const writeFigures = (label: string, gatewayName: string, singleName: string) => ({
      [`${label}: split via gateway / all-in-one rps`]: pairedRatio(
        write(gatewayName).rps,
        write(singleName).rps,
      ),
      [`${label} p50 ms, all-in-one / via gateway`]: `${ms(write(singleName).p50Ms)} / ${ms(write(gatewayName).p50Ms)}`,
      [`${label} p99 ms, all-in-one / via gateway`]: `${ms(write(singleName).p99Ms)} / ${ms(write(gatewayName).p99Ms)}`,
      [`${label} failed writes, all-in-one / via gateway`]: `${failed(singleName)} / ${failed(gatewayName)}`,
    });
    const rps = (name: string) => series.find((s) => s.name === name)?.rps ?? [];
    const round3 = (value: number) => Number(value.toFixed(3));
    const p = (values: number[], q: number) => round3(percentile(values, q));
    return {
      scenario: 'gateway',
      startedAt,
      machine: machine(),
      method: [
        `Split topology by scripts/cluster.sh (8 service processes, a PostgreSQL database each, Redis, a Kafka broker of its own, the gateway) beside the all-in-one process on PostgreSQL; LOG_LEVEL=warn.`,
        `Each shape: a viewer following ${AUTHORS} authors with a post each (a full 20-item chronological page) and one conversation, made through the API.`,
        `Added latency: ${PROBES} sequential requests (first tenth dropped) to auth's JWKS document and to the feed page, direct to the service process vs through the gateway.`,
        `Writes: ${WRITERS} closed loops per series (a unique post or message each request), ${ROUNDS} interleaved rounds of ${DURATION} s, 2 s after each series for the work it set off.`,
        `Load: ${LOAD_GENERATOR} ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${DURATION} s after a warm-up; the load generator shares the cores with the 9 Nova processes, Kafka, PostgreSQL and Redis.`,
        'Loaded machine: other engineers ran tests and benchmarks at the same time; compare series within this report only.',
      ].join(' '),
      series: [...series, ...writes],
      figures: {
        'JWKS direct p50 ms (sequential)': p(directProbe, 50),
        'JWKS direct p99 ms (sequential)': p(directProbe, 99),
        'JWKS through the gateway p50 ms (sequential)': p(gatewayProbe, 50),
        'JWKS through the gateway p99 ms (sequential)': p(gatewayProbe, 99),
        'gateway added latency p50 ms (JWKS)': round3(p(gatewayProbe, 50) - p(directProbe, 50)),
        'gateway added latency p99 ms (JWKS)': round3(p(gatewayProbe, 99) - p(directProbe, 99)),
        'feed page direct p50 / p99 ms (sequential)': `${p(feedDirectProbe, 50)} / ${p(feedDirectProbe, 99)}`,
        'feed page through the gateway p50 / p99 ms (sequential)': `${p(feedGatewayProbe, 50)} / ${p(feedGatewayProbe, 99)}`,
        'gateway added latency p50 ms (feed page)': round3(p(feedGatewayProbe, 50) - p(feedDirectProbe, 50)),
        'gateway added latency p99 ms (feed page)': round3(p(feedGatewayProbe, 99) - p(feedDirectProbe, 99)),
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
        ...writeFigures('POST /posts', 'POST /posts through the gateway', 'POST /posts, all-in-one'),
        ...writeFigures('POST message', 'POST message through the gateway', 'POST message, all-in-one'),
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
