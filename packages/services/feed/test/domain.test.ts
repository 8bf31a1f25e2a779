import { ValidationError } from '@nova/kernel';
import { describe, expect, it } from 'vitest';
import {
  decodeChronologicalCursor,
  decodeRankedCursor,
  encodeChronologicalCursor,
  encodeRankedCursor,
  type FeedPosition,
} from '../src/domain/cursors.js';
import { mergeNewestFirst } from '../src/domain/merge.js';
import { byScore, RECENCY_TAU_MS, SCORE_WEIGHTS, scorePost } from '../src/domain/score.js';

const at = (createdAtMs: number, postId: string): FeedPosition => ({ createdAtMs, postId });
const ids = (items: FeedPosition[]) => items.map((i) => i.postId);
const base = {
  createdAtMs: 1_000_000,
  hasMedia: false,
  recentEngagement: 0,
  viewerEngagementWithAuthor: 0,
  ownPost: false,
};

describe('score', () => {
  it('weights recency, velocity, affinity and media as documented', () => {
    const fresh = scorePost(base, base.createdAtMs);
    expect(fresh).toEqual({ recency: 1, velocity: 0, affinity: 0, media: 0, score: SCORE_WEIGHTS.recency });
    const everything = scorePost(
      { ...base, hasMedia: true, recentEngagement: 100, viewerEngagementWithAuthor: 20 },
      base.createdAtMs,
    );
    expect(everything.score).toBe(1);
    const dayOld = scorePost(base, base.createdAtMs + 24 * 3_600_000);
    expect(dayOld.recency).toBeCloseTo(Math.exp(-(24 * 3_600_000) / RECENCY_TAU_MS), 8);
  });

  it('is monotone in each signal and saturates', () => {
    const s = (over: Partial<typeof base>, ageMs = 0) =>
      scorePost({ ...base, ...over }, base.createdAtMs + ageMs).score;
    expect(s({}, 1000)).toBeLessThan(s({}));
    expect(s({ recentEngagement: 5 })).toBeGreaterThan(s({ recentEngagement: 1 }));
    expect(s({ recentEngagement: 500 })).toBe(s({ recentEngagement: 100 }));
    expect(s({ viewerEngagementWithAuthor: 3 })).toBeGreaterThan(s({}));
    expect(s({ ownPost: true })).toBe(s({ viewerEngagementWithAuthor: 1000 }));
    expect(s({ hasMedia: true })).toBeCloseTo(s({}) + SCORE_WEIGHTS.media, 9);
  });

  it('is deterministic and totally ordered (ties by the newer id)', () => {
    expect(scorePost({ ...base, recentEngagement: 7 }, 5_000_000)).toEqual(
      scorePost({ ...base, recentEngagement: 7 }, 5_000_000),
    );
    const items = [
      { score: 0.5, postId: 'a' },
      { score: 0.7, postId: 'b' },
      { score: 0.5, postId: 'c' },
    ];
    expect(items.sort(byScore).map((i) => i.postId)).toEqual(['b', 'c', 'a']);
  });
});

describe('mergeNewestFirst', () => {
  it('orders newest first, drops duplicates and what the cursor already served', () => {
    const timeline = [at(50, 'e'), at(40, 'd'), at(30, 'c')];
    const merged = [at(45, 'x'), at(40, 'd'), at(60, 'z')];
    const page = mergeNewestFirst(
      [
        { items: timeline, cut: null },
        { items: merged, cut: null },
      ],
      at(55, 'm'),
      10,
    );
    expect(ids(page.items)).toEqual(['e', 'x', 'd', 'c']);
    expect(page.next).toBeNull();
  });

  it('stops at the newest cut so a source that holds more leaves no gap', () => {
    // The timeline read stopped at 30 (it may hold older); the merge holds an older post at 10.
    const page = mergeNewestFirst(
      [
        { items: [at(50, 'e'), at(30, 'c')], cut: at(30, 'c') },
        { items: [at(40, 'x'), at(10, 'y')], cut: null },
      ],
      null,
      10,
    );
    expect(ids(page.items)).toEqual(['e', 'x', 'c']);
    expect(page.next).toEqual(at(30, 'c'));
    const rest = mergeNewestFirst(
      [
        { items: [at(20, 'b')], cut: null },
        { items: [at(10, 'y')], cut: null },
      ],
      page.next,
      10,
    );
    expect(ids(rest.items)).toEqual(['b', 'y']);
  });

  it('continues after the last item of a full page; equal times order by id', () => {
    const items = [at(10, 'a'), at(10, 'b'), at(10, 'c'), at(9, 'z')];
    const page = mergeNewestFirst([{ items, cut: null }], null, 2);
    expect(ids(page.items)).toEqual(['c', 'b']);
    const rest = mergeNewestFirst([{ items, cut: null }], page.next, 2);
    expect(ids(rest.items)).toEqual(['a', 'z']);
  });
});

describe('cursors', () => {
  it('round-trip and refuse forgeries or the other algorithm’s cursor', () => {
    const chrono = encodeChronologicalCursor(at(123, 'p'));
    expect(decodeChronologicalCursor(chrono)).toEqual(at(123, 'p'));
    const ranked = encodeRankedCursor({ anchorMs: 9, score: 0.123456789, postId: 'q' });
    expect(decodeRankedCursor(ranked)).toEqual({ anchorMs: 9, score: 0.123456789, postId: 'q' });
    expect(() => decodeChronologicalCursor(ranked)).toThrow(ValidationError);
    expect(() => decodeRankedCursor(chrono)).toThrow(ValidationError);
    expect(() => decodeChronologicalCursor('%%%')).toThrow(ValidationError);
    expect(() =>
      decodeChronologicalCursor(Buffer.from('{"k":"c","t":1.5,"p":"x"}').toString('base64url')),
    ).toThrow(ValidationError);
  });
});
