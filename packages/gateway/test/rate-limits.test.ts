import { createLogger, createMemoryStore, createRateLimiter, RateLimitedError } from '@nova/kernel';
import { describe, expect, it } from 'vitest';
import { createRateLimits } from '../src/rate-limits.js';

const logger = createLogger('silent');

/** A store whose counter answers only when let go: shows which requests waited for it. */
function heldStore() {
  const store = createMemoryStore();
  const held: (() => void)[] = [];
  let holding = false;
  const increment = store.increment.bind(store);
  store.increment = async (key, ttlMs, by) => {
    if (holding) await new Promise<void>((resolve) => held.push(resolve));
    return increment(key, ttlMs, by);
  };
  return {
    store,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const go of held.splice(0)) go();
    },
  };
}

const limitsOf = (store: ReturnType<typeof createMemoryStore>, perIp: number) => {
  const limited: string[] = [];
  const limits = createRateLimits(
    createRateLimiter(store),
    { perIp, perUser: 0, windowSeconds: 60 },
    logger,
    (scope) => limited.push(scope),
  );
  // biome-ignore lint/suspicious/noExplicitAny: the hook reads request.ip and request.principal only
  const request = (ip: string) => (limits.hook as any)({ ip, principal: undefined }, {}) as Promise<void>;
  return { request, limited };
};

const outcome = (p: Promise<void>) =>
  p.then(
    () => 'ok',
    (error: unknown) => (error instanceof RateLimitedError ? 'limited' : 'error'),
  );

describe('gateway rate limits', () => {
  it('a race over the limit, cold and warm: exactly the excess is refused', async () => {
    const { store } = heldStore();
    const { request, limited } = limitsOf(store, 50);
    // Cold: nothing known of the window, every request waits for the count.
    const cold = await Promise.all(Array.from({ length: 30 }, () => outcome(request('10.0.0.1'))));
    expect(cold.filter((o) => o === 'ok')).toHaveLength(30);
    // Warm: the window is known, most requests go on without waiting; still exactly 50 pass.
    const warm = await Promise.all(Array.from({ length: 40 }, () => outcome(request('10.0.0.1'))));
    expect(warm.filter((o) => o === 'ok')).toHaveLength(20);
    expect(warm.filter((o) => o === 'limited')).toHaveLength(20);
    expect(limited).toHaveLength(20);
    expect((await store.counter?.('rl:gw:ip:10.0.0.1'))?.count ?? 0).toBe(70);
  });

  it('well inside a known window a request does not wait for the store; near the limit it does', async () => {
    const held = heldStore();
    const { request } = limitsOf(held.store, 100);
    await request('10.0.0.2'); // the window becomes known
    held.hold();
    let passed = false;
    await Promise.race([
      request('10.0.0.2').then(() => {
        passed = true;
      }),
      new Promise((r) => setTimeout(r, 200)),
    ]);
    expect(passed).toBe(true); // answered while the store held every count
    held.release();
    // 88 more (90 counted): the next ones are in the last tenth and wait for the store.
    await Promise.all(Array.from({ length: 88 }, () => request('10.0.0.2')));
    held.hold();
    let waited = true;
    const near = request('10.0.0.2').then(() => {
      waited = false;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(waited).toBe(true);
    held.release();
    await near;
  });
});
