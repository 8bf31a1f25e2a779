import { percentile } from './report.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One unlabelled-or-labelled sample of the server's /metrics (0 when absent). */
export async function metric(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ').at(-1) ?? 0);
}

/** Polls `read` every `everyMs` until it stops rising for `quietMs` (or `timeoutMs`); its last value. */
export async function untilSteady(
  read: () => Promise<number>,
  options: { quietMs: number; everyMs: number; timeoutMs: number },
): Promise<number> {
  const deadline = Date.now() + options.timeoutMs;
  let last = await read();
  let changedAt = Date.now();
  while (Date.now() < deadline && Date.now() - changedAt < options.quietMs) {
    await sleep(options.everyMs);
    const now = await read();
    if (now !== last) {
      last = now;
      changedAt = Date.now();
    }
  }
  return last;
}

export interface Latencies {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  /** Every sample, in order, for the JSON report. */
  valuesMs: number[];
}

export const summarise = (values: number[]): Latencies => ({
  samples: values.length,
  p50Ms: percentile(values, 50),
  p99Ms: percentile(values, 99),
  valuesMs: values.map((v) => Math.round(v * 10) / 10),
});

/** The first feed page of each viewer, one request at a time: each one's timeline is rebuilt from the read model. */
export async function coldPages(baseUrl: string, viewers: Record<string, string>[]): Promise<Latencies> {
  const took: number[] = [];
  for (const headers of viewers) {
    const t0 = performance.now();
    const answer = await fetch(`${baseUrl}/api/v1/feed?limit=20`, { headers });
    await answer.arrayBuffer();
    took.push(performance.now() - t0);
    if (answer.status !== 200) throw new Error(`cold feed read answered ${answer.status}`);
  }
  return summarise(took);
}

/**
 * Post → in every follower timeline: `posts` posts by one author, one at a
 * time; each is timed from POST /posts to the fan-out having written
 * `receivers` timelines (nova_feed_fanout_writes_total), polled every 10 ms.
 */
export async function postToVisible(
  baseUrl: string,
  author: Record<string, string>,
  options: { posts: number; receivers: number; timeoutMs: number },
): Promise<Latencies> {
  const took: number[] = [];
  for (let i = 0; i < options.posts; i++) {
    const before = await metric(baseUrl, 'nova_feed_fanout_writes_total');
    const t0 = performance.now();
    const created = await fetch(`${baseUrl}/api/v1/posts`, {
      method: 'POST',
      headers: { ...author, 'content-type': 'application/json' },
      body: JSON.stringify({ text: `fan-out ${i} ${Date.now()}` }),
    });
    if (created.status !== 201) throw new Error(`post answered ${created.status}`);
    while ((await metric(baseUrl, 'nova_feed_fanout_writes_total')) - before < options.receivers) {
      if (performance.now() - t0 > options.timeoutMs)
        throw new Error(
          `fan-out to ${options.receivers} timelines did not finish within ${options.timeoutMs} ms`,
        );
      await sleep(10);
    }
    took.push(performance.now() - t0);
  }
  return summarise(took);
}

/**
 * How many timelines one post by `author` reaches now (the built timelines of
 * its active followers, and its own when built): posts once and counts the
 * fan-out's writes until they stop rising.
 */
export async function fanoutReach(baseUrl: string, author: Record<string, string>): Promise<number> {
  const before = await metric(baseUrl, 'nova_feed_fanout_writes_total');
  const created = await fetch(`${baseUrl}/api/v1/posts`, {
    method: 'POST',
    headers: { ...author, 'content-type': 'application/json' },
    body: JSON.stringify({ text: `fan-out reach ${Date.now()}` }),
  });
  if (created.status !== 201) throw new Error(`post answered ${created.status}`);
  const after = await untilSteady(() => metric(baseUrl, 'nova_feed_fanout_writes_total'), {
    quietMs: 3_000,
    everyMs: 100,
    timeoutMs: 120_000,
  });
  return after - before;
}
