import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import type { Series } from './report.js';

export interface Target {
  name: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /**
   * Awaited after each run of this target (warm-up included), before the
   * next series: e.g. until the events a write series produced are consumed,
   * so the next series does not pay for them.
   */
  settle?: () => Promise<void>;
}

export interface LoadOptions {
  rounds: number;
  durationSeconds: number;
  connections: number;
}

const run = promisify(execFile);

/** The load generator: wrk (C, one thread) when installed, else autocannon (JS, in this process). */
export const LOAD_GENERATOR: 'wrk' | 'autocannon' = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return 'wrk';
  } catch (error) {
    // wrk --version exits 1 after printing its banner; only a missing binary means "absent".
    return (error as { code?: string }).code === 'ENOENT' ? 'autocannon' : 'wrk';
  }
})();

/** Requests that did not succeed, by kind (wrk's socket error classes, plus non-2xx answers). */
export type Failures = {
  connect: number;
  read: number;
  write: number;
  timeout: number;
  non2xx: number;
};

export const totalFailures = (f: Failures): number => f.connect + f.read + f.write + f.timeout + f.non2xx;

export interface RunResult {
  rps: number;
  p99: number;
  p50: number;
  failures: Failures;
}

/** One autocannon run. */
async function hitWithAutocannon(target: Target, options: LoadOptions): Promise<RunResult> {
  const result = await autocannon({
    url: target.url,
    method: target.method ?? 'GET',
    headers: target.headers,
    body: target.body,
    connections: options.connections,
    duration: options.durationSeconds,
  });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    p50: result.latency.p50,
    // autocannon folds connect/read/write failures into `errors`; timeouts are counted apart.
    failures: {
      connect: 0,
      read: 0,
      write: result.errors - result.timeouts,
      timeout: result.timeouts,
      non2xx: result.non2xx,
    },
  };
}

const toMs = (value: string, unit: string): number =>
  Number(value) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 1);

/**
 * One wrk run. wrk parses responses in C, so a larger response body does not
 * slow the load generator down the way it slows autocannon (which shares the
 * server's two cores and becomes the bottleneck).
 */
async function hitWithWrk(target: Target, options: LoadOptions): Promise<RunResult> {
  const headers = Object.entries(target.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  // Another method or a body: wrk takes them from a Lua script (a long bracket keeps the body verbatim).
  const script =
    target.method && target.method !== 'GET' ? writeWrkScript(target.method, target.body ?? '') : undefined;
  try {
    const { stdout } = await run('wrk', [
      '-t1',
      `-c${options.connections}`,
      `-d${options.durationSeconds}s`,
      '--latency',
      ...(script ? ['-s', script] : []),
      ...headers,
      target.url,
    ]);
    return parseWrkOutput(stdout);
  } finally {
    if (script) rmSync(path.dirname(script), { recursive: true, force: true });
  }
}

function writeWrkScript(method: string, body: string): string {
  if (body.includes(']==]')) throw new Error('a wrk body may not contain "]==]"');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nova-wrk-'));
  const file = path.join(dir, 'request.lua');
  writeFileSync(file, `wrk.method = "${method}"\nwrk.body = [==[${body}]==]\n`);
  return file;
}

const hit = (target: Target, options: LoadOptions): Promise<RunResult> =>
  LOAD_GENERATOR === 'wrk' ? hitWithWrk(target, options) : hitWithAutocannon(target, options);

/**
 * Runs the targets interleaved (A, B, A, B, …) for several rounds, so the
 * machine's slow/fast phases hit every series alike; compare medians.
 */
export async function interleaved(targets: Target[], options: LoadOptions): Promise<Series[]> {
  const series = targets.map((t) => ({
    name: t.name,
    rps: [] as number[],
    p99Ms: [] as number[],
    p50Ms: [] as number[],
    failures: [] as number[],
    failureKinds: { connect: 0, read: 0, write: 0, timeout: 0, non2xx: 0 } as Failures,
  }));
  for (const target of targets) {
    await hit(target, { ...options, durationSeconds: 2 }); // warm-up (JIT, caches)
    await target.settle?.();
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, target] of targets.entries()) {
      const r = await hit(target, options);
      await target.settle?.();
      const s = series[i];
      if (!s) continue;
      s.rps.push(r.rps);
      s.p99Ms.push(r.p99);
      s.p50Ms.push(r.p50);
      // A failed request is not throughput: every failure is kept and shown in the report.
      const failed = totalFailures(r.failures);
      s.failures.push(failed);
      for (const kind of Object.keys(r.failures) as (keyof Failures)[])
        s.failureKinds[kind] += r.failures[kind];
      process.stderr.write(
        `round ${round + 1} ${target.name}: ${r.rps.toFixed(0)} rps, p99 ${r.p99} ms${failed ? `, ${failed} FAILED` : ''}\n`,
      );
    }
  }
  return series;
}

/** The figures of one wrk --latency report; every socket error class and non-2xx answer counts as a failure. */
export function parseWrkOutput(stdout: string): RunResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(stdout);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout);
  // "Socket errors: connect 0, read 12, write 0, timeout 3" — printed only when one is non-zero.
  const socket = /Socket errors:\s+connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  if (!rps || !p50 || !p99) throw new Error(`unexpected wrk output:\n${stdout}`);
  if (!socket && /Socket errors/.test(stdout))
    throw new Error(`unexpected wrk socket-error line:\n${stdout}`);
  return {
    rps: Number(rps[1]),
    p50: toMs(p50[1] as string, p50[2] as string),
    p99: toMs(p99[1] as string, p99[2] as string),
    failures: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
      non2xx: Number(non2xx?.[1] ?? 0),
    },
  };
}
