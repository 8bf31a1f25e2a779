import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryPubSub, createRedisPubSub, type PubSub } from '../../src/index.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Collects what a handler receives; `next(n)` waits until n messages arrived (bounded). */
function inbox() {
  const received: { message: string; channel: string }[] = [];
  const handler = (message: string, channel: string) => {
    received.push({ message, channel });
  };
  const until = async (n: number, timeoutMs = 3000) => {
    const deadline = Date.now() + timeoutMs;
    while (received.length < n && Date.now() < deadline) await sleep(5);
    return received;
  };
  return { received, handler, until };
}

interface Peers {
  /** Two handles that must see each other's messages: two connections on Redis, one bus in memory. */
  a: PubSub;
  b: PubSub;
  /** A handle in another namespace (another key prefix / another bus): must see nothing. */
  stranger: PubSub;
  close(): Promise<void>;
}

const backends: { name: string; open(): Promise<Peers> }[] = [
  {
    name: 'memory',
    async open() {
      const bus = createMemoryPubSub();
      const stranger = createMemoryPubSub();
      return {
        a: bus,
        b: bus,
        stranger,
        async close() {
          await bus.close();
          await stranger.close();
        },
      };
    },
  },
  {
    name: 'redis',
    async open() {
      const prefix = `nova-test:${randomUUID()}:realtime:`;
      const connections = [new Redis(REDIS_URL), new Redis(REDIS_URL), new Redis(REDIS_URL)];
      const [one, two, three] = connections as [Redis, Redis, Redis];
      const a = createRedisPubSub(one, prefix);
      const b = createRedisPubSub(two, prefix);
      const stranger = createRedisPubSub(three, `nova-test:${randomUUID()}:realtime:`);
      return {
        a,
        b,
        stranger,
        async close() {
          await Promise.all([a.close(), b.close(), stranger.close()]);
          await Promise.all(connections.map((c) => c.quit()));
        },
      };
    },
  },
];

describe.each(backends)('PubSub on $name', (backend) => {
  let peers: Peers;
  beforeAll(async () => {
    peers = await backend.open();
  });
  afterAll(async () => {
    await peers.close();
  });

  it('delivers a channel to every handler of every peer, in publish order', async () => {
    const first = inbox();
    const second = inbox();
    const sub1 = await peers.a.subscribe('conv:1', first.handler);
    const sub2 = await peers.b.subscribe('conv:1', second.handler);
    for (let i = 0; i < 100; i++) await peers.b.publish('conv:1', `m${i}`);
    await peers.a.publish('conv:2', 'elsewhere');
    const expected = Array.from({ length: 100 }, (_, i) => ({ message: `m${i}`, channel: 'conv:1' }));
    expect(await first.until(100)).toEqual(expected);
    expect(await second.until(100)).toEqual(expected);
    await sub1.unsubscribe();
    await sub2.unsubscribe();
  });

  it('keeps other handlers of a channel after one unsubscribes, none after the last', async () => {
    const stays = inbox();
    const leaves = inbox();
    const staying = await peers.a.subscribe('room', stays.handler);
    const leaving = await peers.a.subscribe('room', leaves.handler);
    await peers.b.publish('room', 'both');
    await stays.until(1);
    await leaves.until(1);
    await leaving.unsubscribe();
    await leaving.unsubscribe(); // twice is harmless
    await peers.b.publish('room', 'one');
    expect(await stays.until(2)).toHaveLength(2);
    await staying.unsubscribe();
    await peers.b.publish('room', 'nobody');
    // A marker on another channel proves delivery ran past "nobody".
    const marker = inbox();
    const markerSub = await peers.a.subscribe('marker', marker.handler);
    await peers.b.publish('marker', 'done');
    await marker.until(1);
    expect(stays.received.map((r) => r.message)).toEqual(['both', 'one']);
    expect(leaves.received.map((r) => r.message)).toEqual(['both']);
    await markerSub.unsubscribe();
  });

  it('matches patterns with * and ? and names the concrete channel', async () => {
    const star = inbox();
    const single = inbox();
    const s1 = await peers.a.psubscribe('user:*:inbox', star.handler);
    const s2 = await peers.a.psubscribe('live:?', single.handler);
    await peers.b.publish('user:42:inbox', 'hello');
    await peers.b.publish('user:42:outbox', 'no');
    await peers.b.publish('live:7', 'seven');
    await peers.b.publish('live:77', 'no');
    await peers.b.publish('user:7:inbox', 'again');
    expect(await star.until(2)).toEqual([
      { message: 'hello', channel: 'user:42:inbox' },
      { message: 'again', channel: 'user:7:inbox' },
    ]);
    expect(await single.until(1)).toEqual([{ message: 'seven', channel: 'live:7' }]);
    await s1.unsubscribe();
    await s2.unsubscribe();
    await expect(peers.a.psubscribe('user:[12]', star.handler)).rejects.toThrow(/only \* and \?/);
    await expect(peers.a.subscribe('', star.handler)).rejects.toThrow(/empty/);
  });

  it('delivers nothing across namespaces', async () => {
    const ours = inbox();
    const theirs = inbox();
    const s1 = await peers.a.subscribe('shared-name', ours.handler);
    const s2 = await peers.stranger.subscribe('shared-name', theirs.handler);
    const s3 = await peers.stranger.psubscribe('*', theirs.handler);
    await peers.b.publish('shared-name', 'ours');
    await ours.until(1);
    await sleep(50);
    expect(theirs.received).toEqual([]);
    await Promise.all([s1.unsubscribe(), s2.unsubscribe(), s3.unsubscribe()]);
  });

  it('survives a handler that throws', async () => {
    const good = inbox();
    const s1 = await peers.a.subscribe('fragile', () => {
      throw new Error('socket gone');
    });
    const s2 = await peers.a.subscribe('fragile', good.handler);
    await peers.b.publish('fragile', 'x');
    await peers.b.publish('fragile', 'y');
    expect((await good.until(2)).map((r) => r.message)).toEqual(['x', 'y']);
    await s1.unsubscribe();
    await s2.unsubscribe();
    await peers.a.ping();
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A private redis-server this test may stop and restart (the shared one is never touched). */
class PrivateRedis {
  #child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
      ],
      { stdio: 'ignore' },
    );
    this.#child = child;
    const probe = new Redis(this.port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => undefined);
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(50);
      }
    }
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.#child = undefined;
  }
}

describe('Redis pub/sub across a Redis restart', () => {
  let server: PrivateRedis;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'nova-redis-'));
    server = new PrivateRedis(await freePort(), dir);
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('re-subscribes channels and patterns on the dedicated connection after the server comes back', async () => {
    const options = { maxRetriesPerRequest: 1, retryStrategy: (n: number) => Math.min(n * 50, 500) };
    const subConn = new Redis(server.port, '127.0.0.1', options);
    const pubConn = new Redis(server.port, '127.0.0.1', options);
    subConn.on('error', () => undefined);
    pubConn.on('error', () => undefined);
    const subscriber = createRedisPubSub(subConn, 'nova:realtime:');
    const publisher = createRedisPubSub(pubConn, 'nova:realtime:');
    const direct = inbox();
    const pattern = inbox();
    try {
      await subscriber.subscribe('conv:9', direct.handler);
      await subscriber.psubscribe('user:*', pattern.handler);
      await publisher.publish('conv:9', 'before');
      await publisher.publish('user:1', 'before');
      expect(await direct.until(1)).toHaveLength(1);
      expect(await pattern.until(1)).toHaveLength(1);
      await subscriber.ping();

      await server.stop();
      // Readiness sees the outage of the subscriber connection.
      const down = Date.now() + 5000;
      let pingError: unknown;
      while (Date.now() < down && !pingError) {
        await subscriber.ping().catch((error: unknown) => {
          pingError = error;
        });
        await sleep(20);
      }
      expect(String(pingError)).toMatch(/subscriber connection is/);

      await server.start();
      // Publish until the re-subscribed connection hears it (bounded): resubscription is automatic.
      const deadline = Date.now() + 10_000;
      let round = 0;
      while ((direct.received.length < 2 || pattern.received.length < 2) && Date.now() < deadline) {
        await publisher.publish('conv:9', `after-${round}`).catch(() => undefined);
        await publisher.publish('user:2', `after-${round}`).catch(() => undefined);
        round += 1;
        await sleep(100);
      }
      expect(direct.received[1]?.message).toMatch(/^after-/);
      expect(pattern.received[1]).toMatchObject({ channel: 'user:2' });
      await subscriber.ping();
    } finally {
      await subscriber.close();
      await publisher.close();
      subConn.disconnect();
      pubConn.disconnect();
    }
  });
});
