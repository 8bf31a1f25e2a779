import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import {
  createPostgresTestDatabase,
  deleteRedisPrefix,
  privateRedisPrefix,
  TEST_REDIS_URL,
} from '@nova/kernel/testing';
import type { WebSocket } from 'ws';
import {
  type RunningNova,
  runNovaCommand,
  type SignedUp,
  type StartOptions,
  sharedSecretsOf,
  signUp,
  startNova,
} from '../../test/e2e/harness.js';
import { api } from '../lib/api.js';
import { interleaved } from '../lib/load.js';
import { type BenchReport, machine, median, type Series } from '../lib/report.js';
import { openSocket } from '../lib/sockets.js';

const SENDERS = Number(process.env.BENCH_SENDERS ?? 64);
/** The lower load the one-process latency is also measured at (its own conversations, same process). */
const LOW_SENDERS = Number(process.env.BENCH_LOW_SENDERS ?? 8);
const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 10) * 1000;
const IDLE_SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? 10_000);
/** Services each server process runs (BENCH_TARGET, e.g. auth,social,messaging: without the other consumers). */
const TARGET = process.env.BENCH_TARGET ?? 'all';
/** Fast password hashing for the sign-ups; live's RTMP ingest on a free port (a running server may hold 1935). */
const SERVER_ENV = { ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1', NOVA_TARGET: TARGET, RTMP_PORT: '0' };

/**
 * Starts a server on TARGET. `npm start` passes --target=all, which overrides
 * NOVA_TARGET, so any other target is migrated first and started with its own
 * --target (a split target does not migrate at start).
 */
async function startTarget(env: Record<string, string>): Promise<RunningNova> {
  if (TARGET === 'all') return startNova({ env });
  const migrated = await runNovaCommand(['migrate', `--target=${TARGET}`], env);
  if (migrated.code !== 0) throw new Error(`nova migrate --target=${TARGET}: ${migrated.stderr}`);
  const options: StartOptions = {
    env,
    command: ['node', '--import', 'tsx', 'apps/nova/src/main.ts', 'start', `--target=${TARGET}`],
  };
  return startNova(options);
}

interface Pair {
  sender: SignedUp;
  recipient: SignedUp;
  conversationId: string;
}

/** `count` sender → recipient pairs, one device each, each pair in its own direct conversation. */
export async function makePairs(nova: RunningNova, count: number): Promise<Pair[]> {
  const run = randomUUID().slice(0, 6);
  const pairs: Pair[] = [];
  for (let i = 0; i < count; i += 8) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(8, count - i) }, async (_, j) => {
        const url = (p: string) => `${nova.url}${p}`;
        const sender = await signUp(url, `s${run}_${i + j}`);
        const recipient = await signUp(url, `r${run}_${i + j}`);
        for (const who of [sender, recipient])
          await api(nova, 'PUT', '/keys', who.token, {
            deviceId: 'd',
            identityKey: 'aWRlbnRpdHk=',
            signedPreKey: 'c2lnbmVk',
            oneTimePreKeys: [],
          });
        const conversation = await api(nova, 'POST', '/conversations', sender.token, {
          memberIds: [recipient.id],
        });
        return { sender, recipient, conversationId: conversation.id as string };
      }),
    );
    pairs.push(...batch);
  }
  return pairs;
}

/** Answers the frame of a tag sent in a ciphertext: the recipients' sockets resolve the waiting sends. */
async function listen(recipients: RunningNova, pairs: Pair[]) {
  const waiting = new Map<string, (at: number) => void>();
  const sockets = await Promise.all(
    pairs.map(async (pair) => {
      const ws = await openSocket(recipients.url, pair.recipient.token, 'd');
      ws.on('message', (data) => {
        const at = performance.now();
        const frame = JSON.parse(String(data)) as { channel: string; data?: { ciphertext?: string } };
        if (frame.channel !== 'message' || !frame.data?.ciphertext) return;
        const tag = Buffer.from(frame.data.ciphertext, 'base64').toString('utf8');
        waiting.get(tag)?.(at);
        waiting.delete(tag);
      });
      return ws;
    }),
  );
  /** Sends one message and answers when its frame arrived: ms after `from`, or -1 (failed or > 5 s). */
  const sendOne = async (
    senders: RunningNova,
    pair: Pair,
    tag: string,
    clientMessageId: string,
    from: number,
  ) => {
    const arrived = new Promise<number>((resolve) => waiting.set(tag, resolve));
    try {
      await api(senders, 'POST', `/conversations/${pair.conversationId}/messages`, pair.sender.token, {
        clientMessageId,
        envelopes: [{ deviceId: 'd', ciphertext: Buffer.from(tag).toString('base64') }],
      });
    } catch {
      waiting.delete(tag);
      return -1;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((resolve) => {
      timer = setTimeout(() => resolve(-1), 5000);
    });
    const at = await Promise.race([arrived, timeout]);
    clearTimeout(timer);
    waiting.delete(tag);
    return at < 0 ? -1 : at - from;
  };
  const close = () => {
    for (const ws of sockets) ws.terminate();
  };
  return { sendOne, close };
}

function summary(latencies: number[], failed: number, seconds: number) {
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((latencies.length * p) / 100))] ?? 0;
  return {
    messagesPerSecond: latencies.length / seconds,
    p50: pct(50),
    p99: pct(99),
    max: latencies.at(-1) ?? 0,
    delivered: latencies.length,
    failed,
  };
}

export type LoopResult = ReturnType<typeof summary>;

/**
 * Closed loop per sender for `durationMs` (saturation: how many messages/s
 * the server sustains): POST a message whose ciphertext carries the pair and
 * message number, wait until the recipient's socket (held by `recipients`'
 * process) gets the frame, then send the next. Latency = POST start → frame
 * received; with every sender always waiting it is mostly queueing.
 */
export async function sendLoop(
  senders: RunningNova,
  recipients: RunningNova,
  pairs: Pair[],
  durationMs: number,
): Promise<LoopResult> {
  const { sendOne, close } = await listen(recipients, pairs);
  const latencies: number[] = [];
  let failed = 0;
  // Fresh idempotency keys per loop: a pair may run in several loops.
  const loopId = randomUUID().slice(0, 8);
  const end = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    pairs.map(async (pair, index) => {
      for (let n = 0; performance.now() < end; n++) {
        const tag = `${loopId}-pair-${index}-msg-${n}-${'x'.repeat(64)}`;
        const ms = await sendOne(senders, pair, tag, `${loopId}-m${n}`, performance.now());
        if (ms < 0) failed++;
        else latencies.push(ms);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  close();
  return summary(latencies, failed, seconds);
}

/**
 * Open loop for `durationMs` at `totalRate` messages/s: each sender sends on
 * its own fixed schedule (every pairs/totalRate s, the senders staggered
 * evenly), whether or not its earlier messages have arrived — the way users
 * send, independently of the server's speed. Latency = the scheduled send
 * time → frame received, so a late load generator counts against the server
 * rather than hiding queueing (no coordinated omission).
 */
export async function sendOpenLoop(
  senders: RunningNova,
  recipients: RunningNova,
  pairs: Pair[],
  durationMs: number,
  totalRate: number,
): Promise<LoopResult & { offeredPerSecond: number }> {
  const { sendOne, close } = await listen(recipients, pairs);
  const latencies: number[] = [];
  let failed = 0;
  const loopId = randomUUID().slice(0, 8);
  const intervalMs = (1000 * pairs.length) / totalRate;
  const perSender = Math.max(1, Math.floor(durationMs / intervalMs));
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  await Promise.all(
    pairs.map(async (pair, index) => {
      for (let n = 0; n < perSender; n++) {
        const due = started + (index / pairs.length + n) * intervalMs;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const tag = `${loopId}-pair-${index}-msg-${n}-${'x'.repeat(64)}`;
        inFlight.push(
          sendOne(senders, pair, tag, `${loopId}-m${n}`, due).then((ms) => {
            if (ms < 0) failed++;
            else latencies.push(ms);
          }),
        );
      }
    }),
  );
  await Promise.all(inFlight);
  const seconds = (perSender * intervalMs) / 1000;
  close();
  return { ...summary(latencies, failed, seconds), offeredPerSecond: (perSender * pairs.length) / seconds };
}

async function metric(nova: RunningNova, name: string): Promise<number> {
  const text = await (await fetch(`${nova.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}

/**
 * Waits (up to 60 s) until the server's CPU rate over a second is back near its idle rate; answers the
 * CPU it spent meanwhile (the work the loop left behind, e.g. a consumer's backlog) and how long it took.
 */
async function untilIdle(cpu: () => Promise<number>, idleMsPerSecond: number) {
  const start = performance.now();
  const first = await cpu();
  let last = first;
  while (performance.now() - start < 60_000) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await cpu();
    const rate = now - last;
    last = now;
    if (rate <= Math.max(2 * idleMsPerSecond, idleMsPerSecond + 30)) break;
  }
  return { cpuMs: last - first, seconds: (performance.now() - start) / 1000 };
}

/**
 * This process's soft limit on open files (Linux: /proc/self/limits; the
 * servers it starts inherit it); undefined where it cannot be read. Node
 * cannot raise it itself: `npm run bench` raises it to the hard limit first.
 */
function openFilesLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
  } catch {
    return undefined;
  }
}

/** File descriptors a process needs besides the idle sockets (the loops' sockets, pools, files). */
const FD_HEADROOM = 1024;

/** Opens `count` idle sockets (no deviceId, one token) and reads the server's memory before and after. */
async function idleSockets(nova: RunningNova, token: string, count: number) {
  const rss = () => metric(nova, 'nova_process_resident_memory_bytes');
  const heap = () => metric(nova, 'nova_nodejs_heap_size_used_bytes');
  await new Promise((r) => setTimeout(r, 1000));
  const [rssBefore, heapBefore] = [await rss(), await heap()];
  const sockets: WebSocket[] = [];
  const errors = new Map<string, number>();
  const started = performance.now();
  for (let i = 0; i < count; i += 100) {
    const batch = await Promise.allSettled(
      Array.from({ length: Math.min(100, count - i) }, () => openSocket(nova.url, token)),
    );
    for (const r of batch) {
      if (r.status === 'fulfilled') sockets.push(r.value);
      else {
        const reason = String((r.reason as Error)?.message ?? r.reason).slice(0, 80);
        errors.set(reason, (errors.get(reason) ?? 0) + 1);
      }
    }
  }
  const openSeconds = (performance.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 2000));
  const held = await metric(nova, 'nova_ws_connections');
  const [rssAfter, heapAfter] = [await rss(), await heap()];
  for (const ws of sockets) ws.terminate();
  const refused = [...errors.values()].reduce((a, b) => a + b, 0);
  return {
    opened: sockets.length,
    refused,
    firstError: [...errors.keys()][0],
    held,
    openSeconds,
    rssPerSocketKiB: (rssAfter - rssBefore) / 1024 / Math.max(1, sockets.length),
    heapPerSocketKiB: (heapAfter - heapBefore) / 1024 / Math.max(1, sockets.length),
    rssAfterMiB: rssAfter / 1024 / 1024,
  };
}

async function healthBaseline(nova: RunningNova): Promise<Series> {
  const [series] = await interleaved(
    [{ name: 'GET /health/live (baseline)', url: `${nova.url}/health/live` }],
    {
      rounds: 1,
      durationSeconds: Math.max(3, DURATION_MS / 1000),
      connections: SENDERS,
    },
  );
  return series as Series;
}

/** Idle sockets this run can open: BENCH_IDLE_SOCKETS, or fewer when the open-files limit is lower. */
function idleSocketPlan(): { count: number; limit: number | undefined; capped: boolean } {
  const limit = openFilesLimit();
  if (limit === undefined || IDLE_SOCKETS + FD_HEADROOM <= limit)
    return { count: IDLE_SOCKETS, limit, capped: false };
  return { count: Math.max(0, limit - FD_HEADROOM), limit, capped: true };
}

export async function runMessagingBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg()[0] as number;
  const logLevel = process.env.LOG_LEVEL ?? 'warn';
  const figures: BenchReport['figures'] = {};
  const series: Series[] = [];
  const idlePlan = idleSocketPlan();
  if (idlePlan.capped)
    process.stderr.write(
      `messaging bench: the open-files limit is ${idlePlan.limit}, so ${idlePlan.count} idle sockets instead of ${IDLE_SOCKETS} (raise it: ulimit -n ${IDLE_SOCKETS + FD_HEADROOM})\n`,
    );
  /** One send loop as a series and its figures. */
  const record = (name: string, label: string, loop: LoopResult) => {
    series.push({
      name,
      rps: [loop.messagesPerSecond],
      p50Ms: [loop.p50],
      p99Ms: [loop.p99],
      failures: [loop.failed],
    });
    figures[`${label}: messages/s`] = loop.messagesPerSecond;
    figures[`${label}: p50 ms`] = loop.p50;
    figures[`${label}: p99 ms`] = loop.p99;
    figures[`${label}: max ms`] = loop.max;
  };
  /** The open-loop rate: half of what the closed loop sustained (as the events and analytics goals define it). */
  const halfOf = (saturated: LoopResult) => Math.max(1, saturated.messagesPerSecond / 2);

  // One process: all-in-one on PostgreSQL, in-process pub/sub.
  const single = await createPostgresTestDatabase();
  const one = await startTarget({ DATABASE_URL: single.url, LOG_LEVEL: logLevel, ...SERVER_ENV });
  try {
    const pairs = await makePairs(one, SENDERS);
    const baseline = await healthBaseline(one);
    series.push(baseline);
    // The server's background work (relays, pollers, timers) with no message in flight: at a low
    // message rate it is a large share of "CPU per message", so it is also given net of it.
    const idleStart = performance.now();
    const idleCpu = await metric(one, 'nova_process_cpu_seconds_total');
    await new Promise((r) => setTimeout(r, 5000));
    const idleMsPerSecond =
      (((await metric(one, 'nova_process_cpu_seconds_total')) - idleCpu) * 1e6) /
      (performance.now() - idleStart);
    figures['one process: server CPU ms per second while idle'] = idleMsPerSecond;
    /**
     * One loop with the server's CPU per message and the machine's 1-minute load average after it.
     * Consumers that fell behind during the loop (notifications of message.sent) work on after it: that
     * CPU belongs to the loop's messages too, so it is counted until the server is back to its idle rate.
     */
    const measured = async (label: string, run: () => Promise<LoopResult>) => {
      const cpuBefore = await metric(one, 'nova_process_cpu_seconds_total');
      const started = performance.now();
      const loop = await run();
      const cpuMs = ((await metric(one, 'nova_process_cpu_seconds_total')) - cpuBefore) * 1000;
      const idleMs = (idleMsPerSecond * (performance.now() - started)) / 1000;
      const afterLoop = performance.now();
      const drained = await untilIdle(
        async () => (await metric(one, 'nova_process_cpu_seconds_total')) * 1000,
        idleMsPerSecond,
      );
      const tailMs = drained.cpuMs - (idleMsPerSecond * (performance.now() - afterLoop)) / 1000;
      const per = (ms: number) => ms / Math.max(1, loop.delivered);
      figures[`${label}: server CPU ms per message`] = per(cpuMs);
      figures[`${label}: server CPU ms per message net of idle`] = per(cpuMs - idleMs);
      figures[`${label}: server CPU ms per message net of idle, with the work left after the loop`] = per(
        cpuMs - idleMs + Math.max(0, tailMs),
      );
      figures[`${label}: seconds until the server was idle after the loop`] = drained.seconds;
      figures[`${label}: load average (1 min) after`] = loadavg()[0] as number;
      return loop;
    };
    const saturated = await measured('one process, closed loop', () =>
      sendLoop(one, one, pairs, DURATION_MS),
    );
    record(
      `closed loop (saturation): send → recipient socket, ${SENDERS} senders, one process`,
      'one process, closed loop',
      saturated,
    );
    figures['one process, closed loop: messages/s ÷ /health/live rps'] =
      saturated.messagesPerSecond / median(baseline.rps);
    const open = await measured('one process, open loop', () =>
      sendOpenLoop(one, one, pairs, DURATION_MS, halfOf(saturated)),
    );
    record(
      `open loop at half of saturation: send → recipient socket, ${SENDERS} senders, one process (goal p99 ≤ 20 ms)`,
      'one process, open loop',
      open,
    );
    const low = await measured(`one process, closed loop, ${LOW_SENDERS} senders`, () =>
      sendLoop(one, one, pairs.slice(0, LOW_SENDERS), DURATION_MS),
    );
    record(
      `closed loop: send → recipient socket, ${LOW_SENDERS} senders, one process`,
      `one process, closed loop, ${LOW_SENDERS} senders`,
      low,
    );
    if (idlePlan.count > 0) {
      const idle = await idleSockets(one, (pairs[0] as Pair).recipient.token, idlePlan.count);
      figures['idle sockets asked'] = idlePlan.count;
      figures['idle sockets opened (goal 10k)'] = idle.opened;
      figures['idle sockets refused'] = idle.refused;
      if (idle.firstError) figures['idle sockets: first refusal'] = idle.firstError;
      figures['idle sockets: seconds to open them'] = idle.openSeconds;
      figures['nova_ws_connections while idle'] = idle.held;
      figures['RSS per idle socket KiB'] = idle.rssPerSocketKiB;
      figures['heap per idle socket KiB'] = idle.heapPerSocketKiB;
      figures['server RSS with idle sockets MiB'] = idle.rssAfterMiB;
    }
  } finally {
    await one.stop();
    one.cleanup();
    await single.drop();
  }

  // Two processes on one PostgreSQL database and Redis: senders on A, recipients' sockets on B.
  const shared = await createPostgresTestDatabase();
  const prefix = privateRedisPrefix('bench-msg');
  const env = {
    DATABASE_URL: shared.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: prefix,
    LOG_LEVEL: logLevel,
    ...SERVER_ENV,
  };
  const a = await startTarget(env);
  let b: RunningNova | undefined;
  try {
    const second = await startTarget({ ...env, ...sharedSecretsOf(a) });
    b = second;
    const pairs = await makePairs(a, SENDERS);
    const cpu = async () =>
      (await metric(a, 'nova_process_cpu_seconds_total')) +
      (await metric(second, 'nova_process_cpu_seconds_total'));
    const idleFrom = await cpu();
    await new Promise((r) => setTimeout(r, 3000));
    const idleMsPerSecond = (((await cpu()) - idleFrom) * 1000) / 3;
    const measured = async (label: string, run: () => Promise<LoopResult>) => {
      const cpuBefore = await cpu();
      const loop = await run();
      const loopMs = ((await cpu()) - cpuBefore) * 1000;
      figures[`${label}: server CPU ms per message (A + B)`] = loopMs / Math.max(1, loop.delivered);
      // The work left after the loop (consumers behind) counted until both are back near idle.
      const drained = await untilIdle(async () => (await cpu()) * 1000, idleMsPerSecond);
      figures[`${label}: server CPU ms per message (A + B) with the work left after the loop`] =
        (loopMs + drained.cpuMs) / Math.max(1, loop.delivered);
      figures[`${label}: seconds until idle after the loop`] = drained.seconds;
      figures[`${label}: load average (1 min) after`] = loadavg()[0] as number;
      return loop;
    };
    const saturated = await measured('two processes, closed loop', () =>
      sendLoop(a, second, pairs, DURATION_MS),
    );
    record(
      `closed loop (saturation): send on A → recipient socket on B, ${SENDERS} senders (Redis pub/sub)`,
      'two processes, closed loop',
      saturated,
    );
    const open = await measured('two processes, open loop', () =>
      sendOpenLoop(a, second, pairs, DURATION_MS, halfOf(saturated)),
    );
    record(
      `open loop at half of saturation: send on A → recipient socket on B, ${SENDERS} senders (Redis pub/sub)`,
      'two processes, open loop',
      open,
    );
  } finally {
    await b?.stop();
    b?.cleanup();
    await a.stop();
    a.cleanup();
    await shared.drop();
    await deleteRedisPrefix(prefix);
  }

  const idleMethod =
    idlePlan.count > 0
      ? `Idle sockets: ${idlePlan.count} sockets without a device (one account), opened by this process against the one-process server in batches of 100; memory per socket from the server's /metrics (RSS and heap before and 2 s after)${idlePlan.capped ? ` — capped from ${IDLE_SOCKETS} by the open-files limit ${idlePlan.limit}` : ''}.`
      : 'Idle sockets: not measured (BENCH_IDLE_SOCKETS=0).';
  return {
    scenario: 'messaging',
    startedAt,
    machine: machine(),
    method: [
      `Server processes run NOVA_TARGET=${TARGET}, \`npm start\` on PostgreSQL (one process: in-process pub/sub; two processes: one database, Redis pub/sub, senders on A, sockets on B).`,
      `${SENDERS} senders, each in its own direct conversation with one recipient device: POST /conversations/{id}/messages, and the message counts when its \`message\` frame reaches the recipient's socket.`,
      `Closed loop (saturation) for ${DURATION_MS / 1000} s: every sender sends its next message as soon as its last one arrived, so the server is always busy; its messages/s is the saturation throughput, and its latency (POST start → frame) is mostly queueing (64 in flight).`,
      `Open loop for ${DURATION_MS / 1000} s at half of that run's closed-loop rate: every sender sends on a fixed schedule (${SENDERS} staggered senders, the total rate half of saturation, as the events and analytics goals are defined), whether or not its earlier messages arrived; latency = scheduled send time → frame. This is the latency to compare with the goal (p99 ≤ 20 ms in one process).`,
      `Then a closed loop of ${LOW_SENDERS} senders alone (one process).`,
      idleMethod,
      `Baseline: /health/live at ${SENDERS} connections in the same run. The load generator shares the machine's 2 cores; the machine's 1-minute load average was ${loadBefore.toFixed(1)} at the start (other engineers' work), and is given after each loop. Server CPU per message (from its /metrics) is net of its idle rate where marked; a consumer that falls behind (notifications of message.sent) works on after a loop, so "with the work left after the loop" adds the CPU until the server is back near its idle rate (≤ 60 s).`,
    ].join(' '),
    series,
    figures,
  };
}
