import { describe, expect, it } from 'vitest';
import { KeyedLanes } from '../../src/events/keyed-lanes.js';

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

describe('KeyedLanes', () => {
  it('runs one key in order and distinct keys in parallel', async () => {
    const lanes = new KeyedLanes(10);
    const log: string[] = [];
    let running = 0;
    let peak = 0;
    const task = (name: string, ms: number) => async () => {
      running += 1;
      peak = Math.max(peak, running);
      log.push(`start ${name}`);
      await tick(ms);
      log.push(`end ${name}`);
      running -= 1;
    };
    await Promise.all([
      lanes.submit('a', task('a1', 20)),
      lanes.submit('a', task('a2', 1)),
      lanes.submit('b', task('b1', 1)),
    ]);
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'));
    expect(log.indexOf('end b1')).toBeLessThan(log.indexOf('end a1'));
    expect(peak).toBe(2);
  });

  it('keeps a key going after a failed task and reports the failure to its submitter', async () => {
    const lanes = new KeyedLanes(2);
    const failed = lanes.submit('k', async () => {
      throw new Error('boom');
    });
    const next = lanes.submit('k', async () => undefined);
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBeUndefined();
    await lanes.idle();
    expect(lanes.inFlight).toBe(0);
  });

  it('makes waitForCapacity wait while full', async () => {
    const lanes = new KeyedLanes(2);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    void lanes.submit('a', () => gate);
    void lanes.submit('b', () => gate);
    expect(lanes.full).toBe(true);
    let woke = false;
    const waiting = lanes.waitForCapacity().then(() => {
      woke = true;
    });
    await tick(10);
    expect(woke).toBe(false);
    release();
    await waiting;
    expect(woke).toBe(true);
    await lanes.idle();
  });
});
