import { randomUUID } from 'node:crypto';
import { DATABASE_KINDS, type DatabaseKind } from '@nova/kernel/testing';
import { CONTENT_EVENTS_GROUP } from '../../packages/services/notifications/src/workers/content-events-consumer.js';
import { PushReceiver } from '../../packages/services/notifications/test/support/push-receiver.js';
import { openSocket } from '../../packages/services/notifications/test/support/socket-client.js';
import {
  events,
  startNotifications,
} from '../../packages/services/notifications/test/support/start-notifications.js';
import { type BenchReport, machine, median } from '../lib/report.js';

const LIKES = Number(process.env.BENCH_LIKES ?? 10_000);
const PUSHES = Number(process.env.BENCH_PUSHES ?? 2000);
const BATCH = Number(process.env.BENCH_BATCH ?? 250);
const DATABASE = (process.env.BENCH_DATABASE ?? 'pglite') as DatabaseKind;

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

/** Latency of GET /health/live, one request at a time, while `during` runs: the same-run baseline. */
async function healthLatencies(url: string, during: Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  let done = false;
  void during.finally(() => {
    done = true;
  });
  while (!done) {
    const started = performance.now();
    await (await fetch(`${url}/health/live`)).arrayBuffer();
    samples.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, 20));
  }
  return samples;
}

/**
 * The notification service in one process (the harness's boot: consumers,
 * delivery workers, socket; auth and social stand in), fed through content's
 * outbox as content would write it:
 * 1. like storm: LIKES likes of one post by distinct accounts, in
 *    transactions of BATCH; the author holds a socket. For like k, latency =
 *    first `notification` frame showing ≥ k actors − commit of the batch
 *    holding like k. Baseline: /health/live latency sampled during the storm.
 * 2. pushes: PUSHES recipients with one subscription each to a push service
 *    on 127.0.0.1 (answers 201 at once), one like each: pushes received per
 *    second (encrypted, VAPID-signed) from the first commit to the last push.
 *    Baseline: /health/live requests per second, one client, same run.
 */
export async function runNotificationsBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  if (!DATABASE_KINDS.includes(DATABASE))
    throw new Error(`BENCH_DATABASE must be one of ${DATABASE_KINDS.join(', ')}`);
  const t = await startNotifications(DATABASE, { LOG_LEVEL: 'warn' });
  const receiver = new PushReceiver();
  await receiver.start();
  const url = t.nova.baseUrl as string;
  try {
    // 1. The like storm.
    const author = randomUUID();
    const post = randomUUID();
    const socket = await openSocket(url, `token-${author}`);
    const committedAt: number[] = [];
    const storm = (async () => {
      for (let sent = 0; sent < LIKES; sent += BATCH) {
        const size = Math.min(BATCH, LIKES - sent);
        await t.publish(
          'content',
          Array.from({ length: size }, () => events.like('like.created', post, author, randomUUID())),
        );
        const now = Date.now();
        for (let i = 0; i < size; i++) committedAt.push(now);
      }
      await socket.waitFor(
        (f) => f.channel === 'notification' && (f.data as { actorCount?: number }).actorCount === LIKES,
        600_000,
      );
    })();
    // Probes: another author's post liked every 200 ms while the storm runs.
    const probeAuthor = randomUUID();
    const probePost = randomUUID();
    const probeSocket = await openSocket(url, `token-${probeAuthor}`);
    const probeLatencies: number[] = [];
    const probes = (async () => {
      let stormDone = false;
      void storm.finally(() => {
        stormDone = true;
      });
      for (let k = 1; !stormDone; k++) {
        await t.publish('content', [events.like('like.created', probePost, probeAuthor, randomUUID())]);
        const committed = Date.now();
        const frame = await probeSocket.waitFor(
          (f) => f.channel === 'notification' && (f.data as { actorCount?: number }).actorCount === k,
          600_000,
        );
        probeLatencies.push(frame.at - committed);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const stormStarted = Date.now();
    const health = await healthLatencies(url, storm);
    await storm;
    await probes;
    probeSocket.close();
    const stormSeconds = (Date.now() - stormStarted) / 1000;
    const frames = socket.frames
      .filter((f) => f.channel === 'notification')
      .map((f) => ({ at: f.at, count: (f.data as { actorCount: number }).actorCount }));
    socket.close();
    const latencies = committedAt.map((commit, index) => {
      const frame = frames.find((f) => f.count >= index + 1);
      return (frame?.at ?? Number.NaN) - commit;
    });

    // 2. Pushes to a local push service.
    const subscribe = async (userId: string) => {
      const browser = receiver.browser(`b-${userId}`);
      const answer = await t.nova.call('POST', '/api/v1/notifications/push-subscriptions', {
        token: `token-${userId}`,
        body: browser.subscription,
      });
      if (answer.status !== 201) throw new Error(`subscribe: ${answer.status}`);
    };
    const recipients = Array.from({ length: PUSHES }, () => randomUUID());
    for (let i = 0; i < recipients.length; i += 50)
      await Promise.all(recipients.slice(i, i + 50).map(subscribe));
    const before = receiver.received.length;
    const pushStarted = Date.now();
    for (let i = 0; i < recipients.length; i += BATCH)
      await t.publish(
        'content',
        recipients.slice(i, i + BATCH).map((r) => events.like('like.created', randomUUID(), r, randomUUID())),
      );
    while (receiver.received.length - before < PUSHES) {
      if (Date.now() - pushStarted > 600_000) throw new Error('pushes did not all arrive');
      await new Promise((r) => setTimeout(r, 20));
    }
    const pushSeconds = (Date.now() - pushStarted) / 1000;
    await t.processed(CONTENT_EVENTS_GROUP, LIKES + PUSHES);
    const healthStarted = Date.now();
    let healthRequests = 0;
    while (Date.now() - healthStarted < 3000) {
      await (await fetch(`${url}/health/live`)).arrayBuffer();
      healthRequests += 1;
    }
    const healthRps = healthRequests / ((Date.now() - healthStarted) / 1000);
    const pushesPerSecond = PUSHES / pushSeconds;

    const probeP50 = percentile(probeLatencies, 50);
    const probeP99 = percentile(probeLatencies, 99);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const healthP50 = percentile(health, 50);
    const healthP99 = percentile(health, 99);
    return {
      scenario: 'notifications',
      startedAt,
      machine: machine(),
      method: [
        `In one process on ${DATABASE} (startModules: consumers, delivery workers, socket; auth and social stand in).`,
        `Like storm: ${LIKES} likes of one post by distinct accounts, committed to content's outbox in transactions of ${BATCH};`,
        'latency of like k = first socket `notification` frame showing ≥ k actors − commit of its transaction',
        '(the storm is committed faster than it is consumed, so this includes the backlog);',
        'probes: another author’s post liked every 200 ms during the storm, latency commit → its frame.',
        `Baseline: GET /health/live latency sampled one at a time during the storm (${health.length} samples).`,
        `Pushes: ${PUSHES} recipients, one subscription each to a push service on 127.0.0.1 (201 at once), one like each;`,
        'pushes received per second (RFC 8291 encrypted, VAPID-signed) from the first commit to the last push;',
        'baseline: /health/live requests per second from one client right after. Loaded machine (2 shared cores).',
      ].join(' '),
      series: [
        {
          name: 'like → socket frame, storm likes (ms)',
          rps: [LIKES / stormSeconds],
          p50Ms: [p50],
          p99Ms: [p99],
        },
        {
          name: 'like → socket frame, another post during the storm (ms)',
          rps: [probeLatencies.length],
          p50Ms: [probeP50],
          p99Ms: [probeP99],
        },
        {
          name: 'GET /health/live during the storm (ms)',
          rps: [healthRps],
          p50Ms: [healthP50],
          p99Ms: [healthP99],
        },
      ],
      figures: {
        likes: LIKES,
        'storm likes/s (commit → last frame)': LIKES / stormSeconds,
        'frames sent': frames.length,
        'like → frame p50 ms': p50,
        'like → frame p99 ms': p99,
        'probe likes': probeLatencies.length,
        'probe like → frame p50 ms': probeP50,
        'probe like → frame p99 ms': probeP99,
        'probe p50 / health p50': probeP50 / healthP50,
        'probe p99 / health p99': probeP99 / healthP99,
        'like → frame p50 / health p50': p50 / healthP50,
        'like → frame p99 / health p99': p99 / healthP99,
        pushes: PUSHES,
        'pushes/s': pushesPerSecond,
        'health/live rps (1 client)': healthRps,
        'pushes/s / health rps': pushesPerSecond / healthRps,
        'median health ms': median(health),
      },
    };
  } finally {
    await receiver.close();
    await t.close();
  }
}
