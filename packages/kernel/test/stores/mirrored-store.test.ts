import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type Config, createStores, type KeyValueStore, loadConfig, type Stores } from '../../src/index.js';
import {
  deleteRedisPrefix,
  eventually,
  privateRedisPrefix,
  TEST_REDIS_URL,
} from '../../src/testing/index.js';

const logger = pino({ level: 'silent' });

function withRedis(keyPrefix: string): Config {
  const base = loadConfig({});
  const urls = { security: TEST_REDIS_URL, cache: TEST_REDIS_URL, realtime: TEST_REDIS_URL };
  return { ...base, redis: { ...base.redis, urls, keyPrefix } };
}

/** Counts the commands the store's own connection sends (MGET / GET reaching Redis). */
function countReads(stores: Stores): { reads(): number } {
  const connection = [...stores.connections.values()][0] as Redis;
  let reads = 0;
  const send = connection.sendCommand.bind(connection);
  connection.sendCommand = ((command: { name: string }) => {
    if (command.name === 'mget' || command.name === 'get') reads += 1;
    return send(command as never);
  }) as typeof connection.sendCommand;
  return { reads: () => reads };
}

describe('mirrored store (ADR 042)', () => {
  const opened: { stores: Stores; prefix: string }[] = [];
  const raw = new Redis(TEST_REDIS_URL);

  afterEach(async () => {
    for (const { stores, prefix } of opened.splice(0)) {
      await stores.close();
      await deleteRedisPrefix(prefix);
    }
  });

  async function open(): Promise<{
    stores: Stores;
    mirror: KeyValueStore & { tracking?: boolean };
    prefix: string;
  }> {
    const prefix = privateRedisPrefix('mirror');
    const stores = createStores(withRedis(prefix), logger);
    opened.push({ stores, prefix });
    const mirror = stores.stores.cache.mirrored?.(['m:']) as KeyValueStore & { tracking: boolean };
    await eventually(async () => expect(mirror.tracking).toBe(true));
    return { stores, mirror, prefix };
  }

  it('answers repeated reads in process, and sees another client’s write', async () => {
    const { stores, mirror, prefix } = await open();
    const counter = countReads(stores);
    await raw.set(`${prefix}cache:m:a`, 'one');
    expect(await mirror.mget(['m:a', 'm:absent'])).toEqual(['one', null]);
    const after = counter.reads();
    expect(await mirror.mget(['m:a', 'm:absent'])).toEqual(['one', null]);
    expect(counter.reads()).toBe(after); // both, the absent one too, from the copy
    // Another process changes and creates keys: Redis pushes their names, the copy drops them.
    await raw.set(`${prefix}cache:m:a`, 'two');
    await raw.set(`${prefix}cache:m:absent`, 'now');
    await eventually(async () => expect(await mirror.mget(['m:a', 'm:absent'])).toEqual(['two', 'now']));
    await raw.del(`${prefix}cache:m:a`);
    await eventually(async () => expect(await mirror.get('m:a')).toBeNull());
  });

  it('reads keys outside its prefixes from Redis every time', async () => {
    const { stores, mirror } = await open();
    const counter = countReads(stores);
    await mirror.set('other', 'x');
    expect(await mirror.get('other')).toBe('x');
    expect(await mirror.get('other')).toBe('x');
    expect(counter.reads()).toBe(2);
  });

  it('shows this process’s own write at once', async () => {
    const { mirror } = await open();
    await mirror.set('m:k', 'old');
    expect(await mirror.get('m:k')).toBe('old');
    // No waiting for the push: the write itself drops the key from the copy.
    await mirror.set('m:k', 'new');
    expect(await mirror.get('m:k')).toBe('new');
    await mirror.del('m:k');
    expect(await mirror.get('m:k')).toBeNull();
  });

  it('goes to Redis while its tracking is down, and starts empty when it is back', async () => {
    const { mirror, prefix } = await open();
    await raw.set(`${prefix}cache:m:k`, 'before');
    expect(await mirror.get('m:k')).toBe('before');
    // Kill the mirror's own connections (named after its role prefix), not the store's.
    const named = String(await raw.call('CLIENT', 'LIST'))
      .split('\n')
      .filter((line) => line.includes(` name=mirror:${prefix}cache: `));
    expect(named.length).toBe(2);
    for (const line of named) await raw.client('KILL', 'ID', /\bid=(\d+)/.exec(line)?.[1] ?? '0');
    await eventually(async () => expect(mirror.tracking).toBe(false), 2_000).catch(() => undefined);
    // A change made while it was (or may have been) blind is seen: nothing old is kept.
    await raw.set(`${prefix}cache:m:k`, 'after');
    expect(await mirror.get('m:k')).toBe('after');
    await eventually(async () => expect(mirror.tracking).toBe(true), 10_000);
    await raw.set(`${prefix}cache:m:k`, 'later');
    await eventually(async () => expect(await mirror.get('m:k')).toBe('later'));
  });

  it('never keeps an answer older than a change that raced it', async () => {
    const { mirror, prefix } = await open();
    for (let i = 0; i < 200; i++) {
      const key = `m:race:${i % 5}`;
      // A read and another client's write in flight together, then the copy must converge.
      await Promise.all([mirror.get(key), raw.set(`${prefix}cache:${key}`, String(i))]);
    }
    for (let k = 0; k < 5; k++) {
      const expected = String(195 + k);
      await eventually(async () => expect(await mirror.get(`m:race:${k}`)).toBe(expected));
    }
  });

  it('is the store itself where the role is in process', () => {
    const stores = createStores(loadConfig({}), logger);
    expect(stores.stores.cache.mirrored).toBeUndefined();
    return stores.close();
  });

  it('is shared by callers asking for the same prefixes', async () => {
    const { stores, mirror } = await open();
    expect(stores.stores.cache.mirrored?.(['m:'])).toBe(mirror);
  });
});
