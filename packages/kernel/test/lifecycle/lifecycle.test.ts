import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeHttpServer,
  createHealthRegistry,
  createHttpServer,
  createMetricsRegistry,
  Lifecycle,
  loadConfig,
} from '../../src/index.js';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Lifecycle', () => {
  it('stops in reverse registration order, passing the deadline', async () => {
    const lifecycle = new Lifecycle({ logger, timeoutMs: 5000 });
    const order: string[] = [];
    const deadlines: number[] = [];
    for (const name of ['pools', 'consumers', 'http']) {
      lifecycle.onStop(name, async (deadline) => {
        deadlines.push(deadline);
        await sleep(5);
        order.push(name);
      });
    }
    const before = Date.now();
    expect(await lifecycle.shutdown('test')).toBe(0);
    expect(order).toEqual(['http', 'consumers', 'pools']);
    expect(new Set(deadlines).size).toBe(1);
    // The budget less the reserve kept for the final log flush.
    expect(lifecycle.reserveMs).toBe(500);
    expect(deadlines[0]).toBeGreaterThanOrEqual(before + 4500);
    expect(deadlines[0]).toBeLessThan(before + 4600);
  });

  it('is idempotent: a second call returns the same promise and runs nothing again', async () => {
    const lifecycle = new Lifecycle({ logger, timeoutMs: 1000 });
    let runs = 0;
    lifecycle.onStop('once', async () => {
      runs++;
    });
    const first = lifecycle.shutdown('a');
    const second = lifecycle.shutdown('b');
    expect(second).toBe(first);
    expect(await first).toBe(0);
    expect(await lifecycle.shutdown('c')).toBe(0);
    expect(runs).toBe(1);
    expect(() => lifecycle.onStop('late', async () => {})).toThrow();
  });

  it('bounds steps by the overall deadline and reports failure', async () => {
    const lifecycle = new Lifecycle({ logger, timeoutMs: 200 });
    const ran: string[] = [];
    lifecycle.onStop('after-deadline', async () => {
      ran.push('after-deadline');
    });
    lifecycle.onStop('hangs', () => new Promise(() => {}));
    const started = Date.now();
    expect(await lifecycle.shutdown('test')).toBe(1);
    const took = Date.now() - started;
    // The steps' share of the 200 ms: all of it but the flush reserve (20 ms).
    expect(took).toBeGreaterThanOrEqual(170);
    expect(took).toBeLessThan(1000);
    expect(ran).toEqual([]);
  });

  it('keeps going after a failing step but exits with 1', async () => {
    const lifecycle = new Lifecycle({ logger, timeoutMs: 1000 });
    const ran: string[] = [];
    lifecycle.onStop('last', async () => {
      ran.push('last');
    });
    lifecycle.onStop('broken', async () => {
      throw new Error('cannot close');
    });
    expect(await lifecycle.shutdown('test')).toBe(1);
    expect(ran).toEqual(['last']);
  });

  describe('signal handlers', () => {
    const saved = { SIGTERM: process.listeners('SIGTERM'), SIGINT: process.listeners('SIGINT') };
    let uninstall: (() => void) | undefined;
    afterEach(() => {
      uninstall?.();
      for (const [signal, listeners] of Object.entries(saved)) {
        for (const l of listeners) process.on(signal, l);
      }
    });

    it('shuts down on SIGTERM and forces exit 1 on a second signal', async () => {
      // Only our handlers may see the emitted signals (the test runner has its own).
      process.removeAllListeners('SIGTERM');
      process.removeAllListeners('SIGINT');
      const lifecycle = new Lifecycle({ logger, timeoutMs: 5000 });
      let release: () => void = () => {};
      lifecycle.onStop('slow', () => new Promise<void>((resolve) => (release = resolve)));
      const exits: number[] = [];
      uninstall = lifecycle.installSignalHandlers((code) => exits.push(code));
      process.emit('SIGTERM', 'SIGTERM');
      await sleep(10);
      expect(lifecycle.isStopping).toBe(true);
      expect(exits).toEqual([]);
      process.emit('SIGINT', 'SIGINT');
      expect(exits).toEqual([1]);
      release();
      await lifecycle.shutdown('again');
      await sleep(10);
      // The process is gone after the first exit; the finished shutdown does not exit again.
      expect(exits).toEqual([1]);
    });

    it('exits when the budget is spent even if a step and the log flush never finish', async () => {
      process.removeAllListeners('SIGTERM');
      process.removeAllListeners('SIGINT');
      const lifecycle = new Lifecycle({ logger, timeoutMs: 1000 });
      lifecycle.onStop('stuck', () => new Promise<void>(() => {}));
      const exits: { code: number; at: number }[] = [];
      let flushedFrom: number | undefined;
      uninstall = lifecycle.installSignalHandlers((code) => exits.push({ code, at: Date.now() }), {
        flush: (deadline) => {
          flushedFrom = deadline;
          return new Promise<void>(() => {}); // stdout never drains
        },
      });
      const signalled = Date.now();
      process.emit('SIGTERM', 'SIGTERM');
      await sleep(1300);
      expect(exits).toHaveLength(1);
      expect(exits[0]?.code).toBe(1);
      expect(exits[0]!.at - signalled).toBeLessThanOrEqual(1100);
      // The steps stopped early enough to leave the flush a reserve before the end.
      expect(flushedFrom).toBeGreaterThanOrEqual(signalled + 1000);
      expect(lifecycle.reserveMs).toBe(100);
    });

    it('flushes the logs with what is left of the budget, then exits with the shutdown code', async () => {
      process.removeAllListeners('SIGTERM');
      process.removeAllListeners('SIGINT');
      const lifecycle = new Lifecycle({ logger, timeoutMs: 2000 });
      const order: string[] = [];
      lifecycle.onStop('quick', async () => {
        order.push('step');
      });
      const exits: number[] = [];
      uninstall = lifecycle.installSignalHandlers(
        (code) => {
          order.push('exit');
          exits.push(code);
        },
        {
          flush: async () => {
            order.push('flush');
          },
        },
      );
      process.emit('SIGTERM', 'SIGTERM');
      await sleep(50);
      expect(order).toEqual(['step', 'flush', 'exit']);
      expect(exits).toEqual([0]);
    });
  });
});

describe('closeHttpServer', () => {
  it('lets an in-flight request finish and refuses new connections', async () => {
    const app = await createHttpServer({
      config: loadConfig({ PORT: '0', HOST: '127.0.0.1' }),
      logger,
      metrics: createMetricsRegistry(),
      health: createHealthRegistry(),
      getTokenVerifier: () => undefined,
    });
    let started: () => void = () => {};
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    app.get('/slow', { config: { auth: 'public' } }, async () => {
      started();
      await sleep(300);
      return { done: true };
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const inFlight = fetch(`http://127.0.0.1:${port}/slow`).then(async (r) => [r.status, await r.json()]);
    await handlerStarted;
    const closing = closeHttpServer(app, Date.now() + 5000);
    await sleep(20);
    await expect(fetch(`http://127.0.0.1:${port}/health/live`)).rejects.toThrow();
    expect(await inFlight).toEqual([200, { done: true }]);
    const closeStarted = Date.now();
    await closing;
    // The finished request's keep-alive socket must not hold shutdown until the deadline.
    expect(Date.now() - closeStarted).toBeLessThan(1000);
  });

  it('cuts connections still open at the deadline', async () => {
    const app = await createHttpServer({
      config: loadConfig({}),
      logger,
      metrics: createMetricsRegistry(),
      health: createHealthRegistry(),
      getTokenVerifier: () => undefined,
    });
    let arrived: () => void = () => {};
    const hanging = new Promise<void>((resolve) => (arrived = resolve));
    app.get('/hang', { config: { auth: 'public' } }, () => {
      arrived();
      return new Promise(() => {});
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const request = http.get(`http://127.0.0.1:${port}/hang`);
    const failed = once(request, 'error');
    await hanging;
    const started = Date.now();
    await closeHttpServer(app, Date.now() + 200);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(2000);
    await failed;
  });
});
