import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createPostgresTestDatabase, freePort } from '@nova/kernel/testing';
import { type RunningNova, signUp, startNova } from '../../test/e2e/harness.js';
import { publish } from '../../test/e2e/live/publisher.js';
import { api } from '../lib/api.js';
import { chatFanout } from '../lib/chat-fanout.js';
import { type HlsWatch, pushedAt, watchHls } from '../lib/hls-watch.js';
import { descendants, processCpuMs, processName } from '../lib/process-cpu.js';
import { type BenchReport, machine, median, percentile, type Series } from '../lib/report.js';
import { startRtmpTap } from '../lib/rtmp-tap.js';

const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const SIZE = process.env.BENCH_LIVE_SIZE ?? '640x360';
/** Segments watched per publish for the latency figures (after the first one). */
const LATENCY_SEGMENTS = Number(process.env.BENCH_LIVE_SEGMENTS ?? 6);
const CPU_SECONDS = Number(process.env.BENCH_LIVE_CPU_SECONDS ?? 15);
const VIEWERS = Number(process.env.BENCH_LIVE_VIEWERS ?? 1000);
const VIEWER_ACCOUNTS = Number(process.env.BENCH_LIVE_VIEWER_ACCOUNTS ?? 100);
const CHAT_MESSAGES = Number(process.env.BENCH_LIVE_CHAT_MESSAGES ?? 40);
const CHAT_INTERVAL_MS = Number(process.env.BENCH_LIVE_CHAT_INTERVAL_MS ?? 250);
/** A player starts this many target durations behind the live edge (RFC 8216 §6.3.3; hls.js's default). */
const PLAYER_HOLD_BACK_SEGMENTS = 3;

type Codec = 'copy' | 'transcode';
const PUBLISHED_VIDEO: Record<Codec, 'h264' | 'flv1'> = { copy: 'h264', transcode: 'flv1' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The Nova server process: the launched command is `node …/main.ts start`, so its pid is Nova's. */
function novaPid(nova: RunningNova): number {
  const pid = nova.pid();
  if (pid === undefined || processName(pid) !== 'node') throw new Error('Nova is not running as node');
  return pid;
}

/** CPU ms of Nova and of its ffmpeg children over `seconds` of wall time. */
async function cpuWindow(pid: number, seconds: number) {
  const ffmpegs = () => descendants(pid).filter((child) => processName(child) === 'ffmpeg');
  const before = new Map(ffmpegs().map((child) => [child, processCpuMs(child)]));
  const novaBefore = processCpuMs(pid);
  const started = performance.now();
  await sleep(seconds * 1000);
  const wallS = (performance.now() - started) / 1000;
  let ffmpegMs = 0;
  for (const child of ffmpegs()) ffmpegMs += processCpuMs(child) - (before.get(child) ?? processCpuMs(child));
  return { wallS, novaMs: processCpuMs(pid) - novaBefore, ffmpegMs, packagers: before.size };
}

interface PublishRun {
  codec: Codec;
  firstByteToPlayableMs: number;
  firstMediaToPlayableMs: number;
  /** Per listed segment (the first excluded: it waits for the stream to start). */
  oldestFrameListedMs: number[];
  newestFrameListedMs: number[];
  segmentFetchMs: number[];
  targetDurationS: number;
  novaCpuPerStreamS: number;
  ffmpegCpuPerStreamS: number;
  publisherCpuPerStreamS: number;
}

/** One publish through the tap: time to playable, per-segment latency, then a CPU window. */
async function publishOnce(
  nova: RunningNova,
  rtmpPort: number,
  token: string,
  codec: Codec,
): Promise<PublishRun> {
  const stream = await api(nova, 'POST', '/streams', token, { title: `bench ${codec}` });
  const id = stream.id as string;
  const tap = await startRtmpTap(rtmpPort);
  const progress: { at: number; mediaMs: number }[] = [];
  const publisher = publish(`rtmp://127.0.0.1:${tap.port}/live/${stream.streamKey as string}`, {
    video: PUBLISHED_VIDEO[codec],
    size: SIZE,
    onProgress: (mediaMs) => progress.push({ at: performance.now(), mediaMs }),
  });
  try {
    const watch: HlsWatch = watchHls(`${nova.url}/api/v1/streams/${id}/hls/index.m3u8`);
    await watch.until((w) => w.segments.length > LATENCY_SEGMENTS, 120_000);
    const firstByteAt = tap.firstByteAt() as number;
    const firstMediaAt = progress.find((p) => p.mediaMs > 0)?.at ?? Number.NaN;
    const later = watch.segments.slice(1).filter((s) => s.fetchStatus === 200);
    const delay = (mediaMs: number, listedAt: number) =>
      listedAt - (pushedAt(progress, mediaMs) ?? Number.NaN);
    const cpu = await cpuWindow(novaPid(nova), CPU_SECONDS);
    const publisherMs = processCpuMs(publisher.child.pid as number);
    return {
      codec,
      firstByteToPlayableMs: (watch.playableAt as number) - firstByteAt,
      firstMediaToPlayableMs: (watch.playableAt as number) - firstMediaAt,
      oldestFrameListedMs: later.map((s) => delay(s.startMs, s.listedAt)),
      newestFrameListedMs: later.map((s) => delay(s.startMs + s.durationMs, s.listedAt)),
      segmentFetchMs: later.map((s) => s.fetchMs),
      targetDurationS: watch.targetDurationS ?? Number.NaN,
      novaCpuPerStreamS: cpu.novaMs / 1000 / cpu.wallS,
      ffmpegCpuPerStreamS: cpu.ffmpegMs / 1000 / cpu.wallS,
      // The encoder's whole life (startup included) over the media it wrote: context, not Nova's cost.
      publisherCpuPerStreamS: publisherMs / Math.max(1, progress.at(-1)?.mediaMs ?? 1),
    };
  } finally {
    await publisher.stop();
    await tap.close();
    // The next publish starts on a quiet server: this stream has ended and its packager is gone.
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline) {
      const state = (await api(nova, 'GET', `/streams/${id}`, token)).state;
      if (state === 'ended' && !descendants(novaPid(nova)).some((p) => processName(p) === 'ffmpeg')) break;
      await sleep(250);
    }
  }
}

function summarise(runs: PublishRun[], idleNovaCpuPerS: number, figures: BenchReport['figures']) {
  for (const codec of ['copy', 'transcode'] as Codec[]) {
    const of = runs.filter((r) => r.codec === codec);
    if (of.length === 0) continue;
    const all = (pick: (r: PublishRun) => number[]) => of.flatMap(pick);
    const newest = median(all((r) => r.newestFrameListedMs));
    const fetchMs = median(all((r) => r.segmentFetchMs));
    const targetS = median(of.map((r) => r.targetDurationS));
    const nova = median(of.map((r) => r.novaCpuPerStreamS)) - idleNovaCpuPerS;
    const ffmpeg = median(of.map((r) => r.ffmpegCpuPerStreamS));
    figures[`${codec}: first RTMP byte → playable playlist ms (median; rounds)`] =
      `${median(of.map((r) => r.firstByteToPlayableMs)).toFixed(0)} (${of.map((r) => r.firstByteToPlayableMs.toFixed(0)).join(', ')})`;
    figures[`${codec}: first media written → playable playlist ms (median)`] = median(
      of.map((r) => r.firstMediaToPlayableMs),
    );
    figures[`${codec}: segment's first frame pushed → segment listed ms p50 / max`] =
      `${median(all((r) => r.oldestFrameListedMs)).toFixed(0)} / ${Math.max(...all((r) => r.oldestFrameListedMs)).toFixed(0)}`;
    figures[`${codec}: segment's last frame pushed → segment listed ms p50 / max`] =
      `${newest.toFixed(0)} / ${Math.max(...all((r) => r.newestFrameListedMs)).toFixed(0)}`;
    figures[`${codec}: segment fetch ms p50`] = fetchMs;
    figures[`${codec}: target duration s`] = targetS;
    figures[
      `${codec}: glass-to-glass estimate s (player ${PLAYER_HOLD_BACK_SEGMENTS} target durations behind)`
    ] = (newest + fetchMs) / 1000 + PLAYER_HOLD_BACK_SEGMENTS * targetS;
    figures[`${codec}: Nova CPU s per stream-second (net of idle)`] = nova;
    figures[`${codec}: ffmpeg packager CPU s per stream-second`] = ffmpeg;
    figures[`${codec}: Nova + ffmpeg CPU s per stream-second`] = nova + ffmpeg;
    figures[`${codec}: publisher (encoder, not Nova) CPU s per stream-second`] = median(
      of.map((r) => r.publisherCpuPerStreamS),
    );
  }
}

async function chatPhase(
  nova: RunningNova,
  owner: { id: string; token: string },
  figures: BenchReport['figures'],
) {
  const tag = Math.random().toString(36).slice(2, 8);
  const url = (p: string) => `${nova.url}${p}`;
  const tokens: string[] = [];
  for (let i = 0; i < VIEWER_ACCOUNTS; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, VIEWER_ACCOUNTS - i) }, (_, j) => signUp(url, `v${tag}_${i + j}`)),
    );
    tokens.push(...batch.map((b) => b.token));
  }
  const stream = await api(nova, 'POST', '/streams', owner.token, { title: 'bench chat' });
  const pid = novaPid(nova);
  const cpuBefore = processCpuMs(pid);
  const result = await chatFanout({
    baseUrl: nova.url,
    streamId: stream.id as string,
    viewerTokens: tokens,
    senderToken: owner.token,
    viewers: VIEWERS,
    messages: CHAT_MESSAGES,
    intervalMs: CHAT_INTERVAL_MS,
    serverCpuMs: () => processCpuMs(pid),
  });
  const cpuMs = processCpuMs(pid) - cpuBefore;
  figures['chat: viewers (sockets) / accounts'] = `${result.viewers} / ${VIEWER_ACCOUNTS}`;
  figures['chat: joining all viewers s'] = result.joinMs / 1000;
  figures['chat: stream.viewers frames delivered while joining'] = result.countFramesWhileJoining;
  figures['chat: messages sent'] = result.messages;
  figures['chat: send → one viewer ms p50'] = percentile(result.deliveryMs, 50);
  figures['chat: send → one viewer ms p99'] = percentile(result.deliveryMs, 99);
  figures['chat: send → every viewer (last of 1 message) ms p50'] = percentile(result.allViewersMs, 50);
  figures['chat: send → every viewer (last of 1 message) ms p99'] = percentile(result.allViewersMs, 99);
  figures['chat: undelivered (message, viewer) pairs'] = result.undelivered;
  figures['chat: Nova CPU s over join + chat'] = cpuMs / 1000;
  figures['chat: Nova CPU ms per message fanned out to every viewer'] = result.chatCpuMs / result.messages;
  const seconds = (result.messages * CHAT_INTERVAL_MS) / 1000;
  return {
    name: `stream.chat → ${result.viewers} viewers, ${1000 / CHAT_INTERVAL_MS} messages/s`,
    rps: [result.deliveryMs.length / seconds],
    p50Ms: [percentile(result.deliveryMs, 50)],
    p99Ms: [percentile(result.deliveryMs, 99)],
    failures: [result.undelivered],
  } satisfies Series;
}

export async function runLiveBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const figures: BenchReport['figures'] = {};
  const series: Series[] = [];
  const database = await createPostgresTestDatabase();
  const rtmpPort = await freePort();
  const target = process.env.BENCH_TARGET ?? 'auth,social,live';
  // Only the all-in-one shape migrates at start.
  await run('node', ['--import', 'tsx', 'apps/nova/src/main.ts', 'migrate', `--target=${target}`], {
    env: { ...process.env, DATABASE_URL: database.url },
  });
  const nova = await startNova({
    // node itself, not npm: its pid is the server's, for the CPU figures.
    command: ['node', '--import', 'tsx', 'apps/nova/src/main.ts', 'start', `--target=${target}`],
    env: {
      DATABASE_URL: database.url,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      RTMP_PORT: String(rtmpPort),
      LIVE_END_GRACE_SECONDS: '1',
      LIVE_CHAT_MESSAGES_PER_MINUTE: '10000',
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_TIME_COST: '1',
    },
  });
  try {
    const owner = await signUp((p) => `${nova.url}${p}`, `owner${Math.random().toString(36).slice(2, 8)}`);
    const runs: PublishRun[] = [];
    const idle: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const quiet = await cpuWindow(novaPid(nova), CPU_SECONDS);
      idle.push(quiet.novaMs / 1000 / quiet.wallS);
      for (const codec of ['copy', 'transcode'] as Codec[])
        runs.push(await publishOnce(nova, rtmpPort, owner.token, codec));
    }
    const idleNovaCpuPerS = median(idle);
    figures['Nova idle CPU s per second (subtracted)'] = idleNovaCpuPerS;
    summarise(runs, idleNovaCpuPerS, figures);
    series.push(await chatPhase(nova, owner, figures));
    return {
      scenario: 'live',
      startedAt,
      machine: machine(),
      method: [
        `One Nova process (\`nova start --target=${target}\`, PostgreSQL, in-process stores), loaded machine (2 shared cores).`,
        `Publisher: the live tests' ffmpeg (testsrc ${SIZE} at 25 fps + sine, -re): H.264 (copied by Nova) or FLV1 (transcoded to H.264 by Nova), AAC audio; ${ROUNDS} interleaved rounds of each.`,
        "Time to playable: a TCP relay in front of RTMP_PORT notes the publisher's first byte (the RTMP handshake); a client polls the playlist every 50 ms and fetches each newly listed segment; playable = the first listed segment fetched with 200.",
        `Latency: the publisher reports (\`-progress\`, every 100 ms) how much media it has written to the RTMP socket, so each media time has a push time; a segment's media range is the sum of the #EXTINF before it; "pushed → listed" is the poll that first lists it minus the push time of its first (oldest) or last (newest) frame, over ${LATENCY_SEGMENTS} segments per publish (the first excluded). Glass-to-glass estimate = newest-frame delay + segment fetch + ${PLAYER_HOLD_BACK_SEGMENTS} target durations (where a standard player starts behind the live edge); the publisher's own capture/encode delay (zerolatency x264, one frame) is not included.`,
        `CPU: utime+stime from /proc of the Nova process and its ffmpeg children over ${CPU_SECONDS} s of a running stream, per second of stream; Nova's idle CPU over the same window with no stream is subtracted.`,
        `Chat: ${VIEWERS} sockets (round-robin over ${VIEWER_ACCOUNTS} accounts) join one stream, then the owner sends ${CHAT_MESSAGES} messages ${CHAT_INTERVAL_MS} ms apart; every socket notes its arrival (substring match, no parsing); the clients run in the bench process on the same 2 cores.`,
      ].join(' '),
      series,
      figures,
    };
  } catch (error) {
    process.stderr.write(nova.output().slice(-4000));
    throw error;
  } finally {
    await nova.stop();
    nova.cleanup();
    await database.drop();
  }
}
