import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type PrivatePostgres,
  type PrivateRedis,
  startPrivatePostgres,
  startPrivateRedis,
} from '../../packages/kernel/src/testing/outage-servers.js';
import { type RunningNova, signUp, startNova } from '../e2e/harness.js';

/**
 * Nova (one process, all-in-one, embedded log) on a PostgreSQL cluster and a
 * redis-server this suite owns, under a running load of authenticated reads
 * and writes. Redis is restarted, then PostgreSQL is crashed and restarted,
 * while the load goes on. Asserted from the outside:
 * - no 500 and no 401 for a valid token, ever; every refusal is a 503 with
 *   Retry-After, and only during an outage (from the stop until the
 *   dependency is back plus a recovery budget);
 * - Nova recovers by itself (the same process: never restarted);
 * - no acknowledged write is lost: afterwards every key holds the value of
 *   its last acknowledged write, or of a later attempt whose answer was lost
 *   in the outage (a write may commit and still answer 503).
 */

const NODE_MAIN = ['node', '--import', 'tsx', 'apps/nova/src/main.ts', 'start'];
const USERS = 5;
const OUTAGE_MS = 3000;
const STABLE_MS = 3000;
/** How long after a dependency is back Nova may still answer 503. */
const RECOVERY_BUDGET_MS = 12_000;

interface Client {
  id: string;
  token: string;
}

interface Observation {
  at: number;
  op: string;
  status: number;
  retryAfter: string | null;
  ms: number;
  detail?: string;
}

/** One sequential writer per key: the attempts in order, acknowledged or not. */
type History = Map<string, { value: string; acked: boolean }[]>;

describe('outages under load (private Redis and PostgreSQL, restarted while Nova serves)', () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let nova: RunningNova;
  const run = Date.now().toString(36);
  const observations: Observation[] = [];
  const history: History = new Map();
  const users: Client[] = [];

  async function call(method: string, path: string, token?: string, body?: unknown) {
    const started = Date.now();
    let response: Response;
    try {
      response = await fetch(`${nova.url}/api/v1${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(20_000),
      });
    } catch (error) {
      // A connection cut or a request left hanging is an answer too (status 0): it must never happen.
      const cause = (error as { cause?: { message?: string } }).cause?.message ?? String(error);
      return { status: 0, retryAfter: null, body: { error: cause }, started, ms: Date.now() - started };
    }
    const text = await response.text();
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: (text ? JSON.parse(text) : {}) as Record<string, unknown> & { items?: { id: string }[] },
      started,
      ms: Date.now() - started,
    };
  }

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
    nova = await startNova({
      command: NODE_MAIN,
      readyTimeoutMs: 240_000,
      env: {
        DATABASE_URL: postgres.url,
        REDIS_URL: redis.url,
        LOG_LEVEL: 'warn',
        REDIS_COMMAND_TIMEOUT_MS: '1000',
        DATABASE_CONNECT_TIMEOUT_MS: '1500',
        DATABASE_STATEMENT_TIMEOUT_MS: '5000',
        // Registration throttles (when present) must not get in the way of the set-up.
        REGISTER_MAX_PER_IP: '1000',
      },
    });
    for (let i = 0; i < USERS; i++) {
      const user = await signUp((p) => `${nova.url}${p}`, `load${i}_${run}`);
      users.push({ id: user.id, token: user.token });
    }
  }, 400_000);

  afterAll(async () => {
    // On failure the server's own account of it is the first thing to read.
    if (process.env.NOVA_TEST_SHOW_OUTPUT) process.stderr.write(nova?.output().slice(-20_000) ?? '');
    await nova?.stop();
    nova?.cleanup();
    await redis?.stop();
    await postgres?.destroy();
  }, 120_000);

  /** Worker `i` acts as user i: profile PATCHes, follow/unfollow of the others, reads. */
  async function worker(i: number, running: () => boolean): Promise<void> {
    const me = users[i] as Client;
    const others = users.filter((_, j) => j !== i);
    let n = 0;
    const following = new Map<string, boolean>();
    while (running()) {
      n++;
      const kind = n % 4;
      let op: string;
      let key: string | undefined;
      let value: string | undefined;
      let response: Awaited<ReturnType<typeof call>>;
      if (kind === 0) {
        op = 'PATCH /users/me';
        key = `bio:${me.id}`;
        value = `w${i}-${n}`;
        response = await call('PATCH', '/users/me', me.token, { bio: value });
      } else if (kind === 1) {
        const target = others[n % others.length] as Client;
        const follow = !(following.get(target.id) ?? false);
        op = follow ? 'POST /users/{id}/follow' : 'DELETE /users/{id}/follow';
        key = `follow:${me.id}:${target.id}`;
        value = String(follow);
        response = await call(follow ? 'POST' : 'DELETE', `/users/${target.id}/follow`, me.token);
        // Flip the intention only on an answer; an unanswered attempt is retried as is.
        if (response.status < 300) following.set(target.id, follow);
      } else if (kind === 2) {
        op = 'GET /users/me';
        response = await call('GET', '/users/me', me.token);
      } else {
        op = 'GET /users/{id}/followers';
        response = await call('GET', `/users/${me.id}/followers`, me.token);
      }
      observations.push({
        at: response.started,
        op,
        status: response.status,
        retryAfter: response.retryAfter,
        ms: response.ms,
        detail: response.status === 0 || response.status >= 500 ? JSON.stringify(response.body) : undefined,
      });
      if (key !== undefined && value !== undefined) {
        const attempts = history.get(key) ?? [];
        attempts.push({ value, acked: response.status >= 200 && response.status < 300 });
        history.set(key, attempts);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Waits until every request of a full second succeeds; the time that happened. */
  async function recovered(since: number): Promise<number> {
    const deadline = since + RECOVERY_BUDGET_MS;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      const recent = observations.filter((o) => o.at >= Date.now() - 1000);
      if (recent.length >= 5 && recent.every((o) => o.status < 300)) return Date.now();
    }
    return Number.NaN;
  }

  it('keeps its answers honest and its acknowledged writes through a Redis restart and a PostgreSQL crash', async () => {
    let loadOn = true;
    const load = Promise.all(users.map((_, i) => worker(i, () => loadOn)));
    const windows: { name: string; from: number; to: number }[] = [];
    try {
      await new Promise((r) => setTimeout(r, STABLE_MS));

      const redisDown = Date.now();
      await redis.stop();
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      await redis.start();
      const redisBack = Date.now();
      const redisRecovered = await recovered(redisBack);
      windows.push({ name: 'redis', from: redisDown, to: redisBack + RECOVERY_BUDGET_MS });
      expect(redisRecovered, 'no recovery after the Redis restart').not.toBeNaN();
      await new Promise((r) => setTimeout(r, STABLE_MS));

      const pgDown = Date.now();
      await postgres.stop('immediate'); // a crash: no shutdown checkpoint, recovery from WAL
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      await postgres.start();
      const pgBack = Date.now();
      const pgRecovered = await recovered(pgBack);
      windows.push({ name: 'postgres', from: pgDown, to: pgBack + RECOVERY_BUDGET_MS });
      expect(pgRecovered, 'no recovery after the PostgreSQL restart').not.toBeNaN();
      await new Promise((r) => setTimeout(r, STABLE_MS));
    } finally {
      loadOn = false;
      await load;
    }

    const byStatus = new Map<number, number>();
    for (const o of observations) byStatus.set(o.status, (byStatus.get(o.status) ?? 0) + 1);
    const summary = JSON.stringify(Object.fromEntries(byStatus));
    expect(observations.length, summary).toBeGreaterThan(100);
    // Never a 500, never a 401 for these valid tokens; anything not 2xx is a 503 with Retry-After.
    const refused = observations.filter((o) => o.status >= 300);
    for (const o of refused) {
      expect(o.status, `${o.op} answered ${o.status} ${o.detail ?? ''} (${summary})`).toBe(503);
      expect(Number(o.retryAfter), `${o.op} 503 without Retry-After`).toBeGreaterThan(0);
      // In flight while the outage began counts too: started before, answered after the stop.
      const during = windows.some((w) => o.at + o.ms >= w.from && o.at <= w.to);
      expect(during, `${o.op} answered 503 outside an outage at +${o.at - windows[0]!.from} ms`).toBe(true);
    }
    // No request was left hanging: every answer came within the timeouts' reach.
    expect(Math.max(...observations.map((o) => o.ms))).toBeLessThan(10_000);
    // The outages were real: the load saw them.
    expect(refused.length, summary).toBeGreaterThan(0);

    // Same process throughout: Nova was never restarted.
    expect(nova.output().match(/nova is listening/g)?.length ?? 0).toBeLessThanOrEqual(1);
    const ready = await fetch(`${nova.url}/health/ready`);
    expect(ready.status).toBe(200);

    // Every acknowledged write is visible.
    const owner = new Map(users.map((u) => [u.id, u]));
    for (const [key, attempts] of history) {
      const lastAcked = attempts.map((a) => a.acked).lastIndexOf(true);
      if (lastAcked === -1) continue;
      const allowed = new Set(attempts.slice(lastAcked).map((a) => a.value));
      const [kind, userId, targetId] = key.split(':') as [string, string, string | undefined];
      const user = owner.get(userId) as Client;
      let actual: string;
      if (kind === 'bio') {
        const me = await call('GET', '/users/me', user.token);
        expect(me.status).toBe(200);
        actual = String(me.body.bio);
      } else {
        const page = await call('GET', `/users/${userId}/following?limit=50`, user.token);
        expect(page.status).toBe(200);
        actual = String((page.body.items ?? []).some((p) => p.id === targetId));
      }
      expect([...allowed], `${key}: lost an acknowledged write`).toContain(actual);
    }
  }, 240_000);
});
