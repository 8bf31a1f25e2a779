import { describe, expect, it } from 'vitest';
import { generatePopulation } from '../src/seed/population.js';
import { generatePosts } from '../src/seed/posts.js';

const END = Date.UTC(2026, 5, 15, 12);
const population = generatePopulation({ users: 2_000, seed: 7, avgFollows: 10 });
const make = () => generatePosts(population, { posts: 20_000, endMs: END });

describe('posts population', () => {
  it('is deterministic and spreads UUIDv7 posts over 90 days in index order', () => {
    const a = make();
    const b = make();
    expect(b.post(12_345)).toEqual(a.post(12_345));
    expect(b.comments(77)).toEqual(a.comments(77));
    expect([...b.likers(99)]).toEqual([...a.likers(99)]);
    const all = [...a.postChunks(3_000)].flat();
    expect(all).toHaveLength(20_000);
    expect(new Set(all.map((p) => p.id)).size).toBe(20_000);
    for (let i = 1; i < all.length; i++) {
      const p = all[i];
      expect(p?.createdAtMs).toBeGreaterThan(all[i - 1]?.createdAtMs as number);
      // The id carries the instant (content's partition key), as content's own ids do.
      expect(p?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Number.parseInt(`${p?.id.slice(0, 8)}${p?.id.slice(9, 13)}`, 16)).toBe(p?.createdAtMs);
    }
    expect(all[0]?.createdAtMs).toBeGreaterThanOrEqual(END - 90 * 86_400_000);
    expect(all.at(-1)?.createdAtMs).toBeLessThanOrEqual(END);
  });

  it('has power-law authorship, and counts that match likers and comments', () => {
    const posts = make();
    const counts = posts.postCounts();
    const sorted = [...counts].sort((x, y) => y - x);
    expect(counts.reduce((s, c) => s + c, 0)).toBe(20_000);
    // The busiest author writes far more than the median one.
    expect(sorted[0]).toBeGreaterThan(20 * (sorted[1_000] as number));
    let likes = 0;
    let comments = 0;
    const wrong: number[] = [];
    for (let i = 0; i < posts.count; i++) {
      const post = posts.post(i);
      const likers = posts.likers(i);
      const thread = posts.comments(i);
      const fine =
        posts.authorOf(i) === post.authorIndex &&
        likers.length === post.likeCount &&
        new Set(likers).size === post.likeCount &&
        !likers.includes(post.authorIndex) &&
        thread.length === post.commentCount &&
        // A reply names an earlier top-level comment.
        thread.every(
          (c, n) =>
            c.parentNumber === null || (c.parentNumber < n && thread[c.parentNumber]?.parentNumber === null),
        );
      if (!fine) wrong.push(i);
      likes += post.likeCount;
      comments += post.commentCount;
    }
    expect(wrong).toEqual([]);
    expect({ likes, comments }).toEqual({ likes: posts.likeTotal, comments: posts.commentTotal });
    expect(likes / posts.count).toBeGreaterThan(1.5);
    expect(likes / posts.count).toBeLessThan(6);
  });

  it('refuses nonsense sizes', () => {
    expect(() => generatePosts(population, { posts: -1, endMs: END })).toThrow(RangeError);
    expect(() => generatePosts(population, { posts: 10, endMs: 5 })).toThrow(RangeError);
    expect(() => make().post(20_000)).toThrow(RangeError);
  });
});
