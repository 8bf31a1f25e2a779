import { describe, expect, it } from 'vitest';
import { keyHash, lanesFor, splitByKey } from '../../src/events/key-split.js';

interface Item {
  key: string;
  n: number;
}

const items = (count: number, keys: number): Item[] =>
  Array.from({ length: count }, (_, n) => ({ key: `k${n % keys}`, n }));

describe('splitByKey', () => {
  it('puts each key in exactly one lane, in log order, in chunks of at most the bound', () => {
    const input = items(1000, 37);
    const lanes = splitByKey(input, (i) => i.key, 4, 100);
    expect(lanes.length).toBeLessThanOrEqual(4);
    const laneOfKey = new Map<string, number>();
    for (const [lane, chunks] of lanes.entries()) {
      for (const chunk of chunks) {
        expect(chunk.length).toBeGreaterThan(0);
        expect(chunk.length).toBeLessThanOrEqual(100);
        for (const item of chunk) {
          expect(laneOfKey.get(item.key) ?? lane).toBe(lane);
          laneOfKey.set(item.key, lane);
        }
      }
      const ns = chunks.flat().map((i) => i.n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
    expect(
      lanes
        .flat(2)
        .map((i) => i.n)
        .sort((a, b) => a - b),
    ).toEqual(input.map((i) => i.n));
    // Enough keys spread over every lane.
    expect(lanes).toHaveLength(4);
  });

  it('with one lane keeps the input order, cut into chunks', () => {
    const input = items(250, 5);
    const [lane, ...rest] = splitByKey(input, (i) => i.key, 1, 100);
    expect(rest).toEqual([]);
    expect(lane?.map((c) => c.length)).toEqual([100, 100, 50]);
    expect(lane?.flat()).toEqual(input);
  });

  it('hashes a key the same way every time, to an unsigned 32-bit value', () => {
    expect(keyHash('user-42')).toBe(keyHash('user-42'));
    expect(keyHash('')).toBeGreaterThanOrEqual(0);
    expect(keyHash('a')).not.toBe(keyHash('b'));
  });

  it('opens a lane per maxEvents ÷ inFlight waiting events, up to inFlight', () => {
    expect(lanesFor(1, 1000, 4)).toBe(1);
    expect(lanesFor(250, 1000, 4)).toBe(1);
    expect(lanesFor(251, 1000, 4)).toBe(2);
    expect(lanesFor(900, 1000, 4)).toBe(4);
    expect(lanesFor(4000, 1000, 4)).toBe(4);
    expect(lanesFor(4000, 1000, 1)).toBe(1);
    expect(lanesFor(0, 10, 4)).toBe(1);
  });
});
