import autocannon from 'autocannon';
import type { Series } from './report.js';

export interface Target {
  name: string;
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  rounds: number;
  durationSeconds: number;
  connections: number;
}

/** One autocannon run. */
async function hit(
  target: Target,
  options: LoadOptions,
): Promise<{ rps: number; p99: number; p50: number; non2xx: number }> {
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
    non2xx: result.non2xx + result.errors,
  };
}

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
  }));
  for (const target of targets) await hit(target, { ...options, durationSeconds: 2 }); // warm-up (JIT, caches)
  for (let round = 0; round < options.rounds; round++) {
    for (const [i, target] of targets.entries()) {
      const r = await hit(target, options);
      if (r.non2xx > 0) throw new Error(`${target.name}: ${r.non2xx} non-2xx responses or errors`);
      series[i]?.rps.push(r.rps);
      series[i]?.p99Ms.push(r.p99);
      series[i]?.p50Ms.push(r.p50);
      process.stderr.write(`round ${round + 1} ${target.name}: ${r.rps.toFixed(0)} rps, p99 ${r.p99} ms\n`);
    }
  }
  return series;
}
