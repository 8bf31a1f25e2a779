import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, createStores, loadConfig, type Stores, UnavailableError } from '../../src/index.js';
import {
  type BlackHole,
  freePort,
  type PrivateRedis,
  startBlackHole,
  startPrivateRedis,
} from '../../src/testing/index.js';

const COMMAND_TIMEOUT_MS = 400;
const logger = pino({ level: 'silent' });

function storesOn(url: string): Stores {
  const config: Config = loadConfig({
    REDIS_URL: url,
    REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS),
    REDIS_CONNECT_TIMEOUT_MS: '300',
  });
  return createStores(config, logger);
}

/** Resolves to the error (or 'ok') and how long the operation took. */
async function timed(operation: () => Promise<unknown>): Promise<{ outcome: unknown; ms: number }> {
  const started = Date.now();
  const outcome = await operation().then(
    () => 'ok',
    (error: unknown) => error,
  );
  return { outcome, ms: Date.now() - started };
}

function expectUnavailable(outcome: unknown): void {
  expect(outcome).toBeInstanceOf(UnavailableError);
  const error = outcome as UnavailableError;
  expect(error.code).toBe('store_unavailable');
  expect(error.retryAfterSeconds).toBeGreaterThan(0);
}

describe('Redis outages (a redis-server this suite owns)', () => {
  let redis: PrivateRedis;
  let stores: Stores;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    stores = storesOn(redis.url);
  });
  afterAll(async () => {
    await stores?.close();
    await redis?.stop();
  });

  it('fails every store operation with a 503-class error while Redis is down, then recovers without a new client', async () => {
    const { security } = stores.stores;
    await security.set('k', 'before');
    expect(await security.get('k')).toBe('before');

    await redis.stop();
    const operations: [string, () => Promise<unknown>][] = [
      ['get', () => security.get('k')],
      ['mget', () => security.mget(['k', 'x'])],
      ['set', () => security.set('k', 'v', 1000)],
      ['setIfAbsent', () => security.setIfAbsent('lock', '1', 1000)],
      ['take', () => security.take('k')],
      ['del', () => security.del('k')],
      ['increment', () => security.increment('n', 1000)],
      ['ping', () => security.ping()],
    ];
    const results = await Promise.all(operations.map(([, op]) => timed(op)));
    results.forEach(({ outcome, ms }, i) => {
      expect(operations[i]?.[0]).toBeDefined();
      expectUnavailable(outcome);
      // Bounded by the command timeout (plus scheduling slack), never a hang.
      expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS + 1500);
    });
    const ready = await Promise.all(stores.healthChecks.map((c) => timed(() => c.check())));
    for (const { outcome } of ready) expect(outcome).toBeInstanceOf(UnavailableError);

    await redis.start();
    // The same client reconnects on its own (backoff capped at 2 s).
    const deadline = Date.now() + 8000;
    let value: unknown;
    while (Date.now() < deadline) {
      value = await security.set('k', 'after').then(
        () => security.get('k'),
        (error: unknown) => error,
      );
      if (value === 'after') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(value).toBe('after');
    for (const check of stores.healthChecks) await check.check();
  });
});

describe('Redis that is not there', () => {
  it('a port nobody listens on: operations fail fast as unavailable', async () => {
    const stores = storesOn(`redis://127.0.0.1:${await freePort()}`);
    try {
      const { outcome, ms } = await timed(() => stores.stores.cache.get('k'));
      expectUnavailable(outcome);
      expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS + 1500);
    } finally {
      await stores.close();
    }
  });

  describe('a black-holed port (accepts, never answers)', () => {
    let hole: BlackHole;
    beforeAll(async () => {
      hole = await startBlackHole();
    });
    afterAll(() => hole.close());

    it('operations time out as unavailable instead of hanging', async () => {
      const stores = storesOn(hole.url('redis'));
      try {
        const results = await Promise.all([
          timed(() => stores.stores.security.get('k')),
          timed(() => stores.stores.security.increment('n', 1000)),
          timed(() => stores.stores.security.ping()),
        ]);
        for (const { outcome, ms } of results) {
          expectUnavailable(outcome);
          expect(ms).toBeLessThan(COMMAND_TIMEOUT_MS + 1500);
        }
      } finally {
        await stores.close();
      }
    });
  });
});
