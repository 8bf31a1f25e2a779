import { connect, createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DependencyUnreachableError, waitForDependency } from '../../src/lifecycle/wait-for-dependency.js';
import { createLogger } from '../../src/logging/logger.js';

const logger = createLogger('silent');

/** One TCP connect: the probe a real dependency check boils down to. */
const reach = (port: number) =>
  new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', reject);
  });

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('waitForDependency', () => {
  it('keeps probing until a dependency that comes up late answers', async () => {
    const port = await freePort();
    let server: Server | undefined;
    const timer = setTimeout(() => {
      server = createServer((socket) => socket.end()).listen(port, '127.0.0.1');
    }, 600);
    let attempts = 0;
    try {
      await waitForDependency({
        dependency: 'a late service',
        where: `127.0.0.1:${port}`,
        probe: async () => {
          attempts += 1;
          await reach(port);
        },
        timeoutMs: 10_000,
        logger,
      });
      expect(attempts).toBeGreaterThan(1);
    } finally {
      clearTimeout(timer);
      server?.close();
    }
  });

  it('gives up after the wait, naming what, where and why', async () => {
    const port = await freePort();
    const started = Date.now();
    const error = await waitForDependency({
      dependency: 'the event log (Kafka)',
      where: `127.0.0.1:${port}`,
      probe: () => reach(port),
      timeoutMs: 1200,
      logger,
    }).catch((e: unknown) => e);
    const took = Date.now() - started;
    expect(error).toBeInstanceOf(DependencyUnreachableError);
    const message = (error as Error).message;
    expect(message).toContain(`cannot reach the event log (Kafka) at 127.0.0.1:${port}`);
    expect(message).toContain('ECONNREFUSED');
    expect((error as DependencyUnreachableError).attempts).toBeGreaterThan(1);
    // It stops short of the deadline rather than sleep past it, never long after it.
    expect(took).toBeGreaterThan(300);
    expect(took).toBeLessThan(5000);
  });

  it('bounds a probe that never answers and aborts it', async () => {
    let aborted = false;
    const error = await waitForDependency({
      dependency: 'a silent peer',
      where: 'somewhere',
      probe: (signal) =>
        new Promise<void>(() => {
          signal.addEventListener('abort', () => {
            aborted = true;
          });
        }),
      timeoutMs: 400,
      attemptTimeoutMs: 150,
      logger,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/last error: no answer within \d+ ms/);
    expect(aborted).toBe(true);
  });
});
