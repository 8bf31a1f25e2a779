/**
 * Deterministic synthetic posts for `nova seed` and benchmarks, beside the
 * users and follows of population.ts: content's seed hook loads them, the
 * feed's seed derives its timelines from the same generator, and both agree
 * on every id without calling each other. Everything derives from (seed,
 * post index), so any range can be regenerated alone and nothing large is
 * held in memory.
 *
 * Shape: `posts` posts spread evenly over the `days` before `endMs`, index
 * order = time order (post 0 is the oldest). Authorship is power-law: a
 * Zipf draw over author ranks, the ranks spread over the users like the
 * follow targets are, so a few accounts write thousands of posts and most a
 * handful. Each post has a power-law number of likes from distinct users and
 * a few comments (some replies to an earlier comment of the same post).
 */
import type { Population } from './population.js';
import { hash2, hex, prng } from './random.js';

export interface PostPopulationOptions {
  posts: number;
  /** The instant of the newest post (epoch ms); posts reach back `days` from it. */
  endMs: number;
  /** Default 90. */
  days?: number;
  /** Mean likes per post (default 3); per post exponential, capped at the number of users. */
  avgLikes?: number;
  /** Mean comments per post (default 0.5). */
  avgComments?: number;
  /** Zipf exponent of authorship (default 0.8: over 10k users the top author writes ~4% of the posts, the median a few dozen per 1M). */
  authorExponent?: number;
}

export type SeedVisibility = 'public' | 'followers' | 'private';

export interface SeedPost {
  /** 0-based index; higher is newer. */
  index: number;
  /** A UUIDv7 whose milliseconds are createdAtMs (content's id format). */
  id: string;
  authorIndex: number;
  createdAtMs: number;
  text: string;
  /** Lower-case tags in order of appearance (what content extracts from `text`). */
  hashtags: string[];
  visibility: SeedVisibility;
  likeCount: number;
  commentCount: number;
}

export interface SeedComment {
  id: string;
  postIndex: number;
  authorIndex: number;
  /** Index (within the post's comments) of the top-level comment replied to, or null. */
  parentNumber: number | null;
  createdAtMs: number;
  text: string;
}

export interface PostPopulation {
  readonly options: Required<PostPopulationOptions>;
  readonly count: number;
  /** Exact totals over all posts (one pass at creation). */
  readonly likeTotal: number;
  readonly commentTotal: number;
  post(index: number): SeedPost;
  /** The author (user index) of post `index`, without building the post. */
  authorOf(index: number): number;
  /** Posts per user (one pass, memoised): social's postCount of the seeded profiles. */
  postCounts(): Uint32Array;
  /** Posts in index order, `chunkSize` at a time. */
  postChunks(chunkSize?: number): Iterable<SeedPost[]>;
  /** The distinct users (indices) who like post `index`, likeCount of them. */
  likers(index: number): Uint32Array;
  /** The comments of post `index` in time order, commentCount of them; reply ids follow their parent. */
  comments(index: number): SeedComment[];
}

/** Tags a seeded post may carry, most popular first (picked Zipf-like). */
export const SEED_HASHTAGS = [
  'nova',
  'photo',
  'travel',
  'food',
  'music',
  'news',
  'sport',
  'art',
  'tech',
  'nature',
  'books',
  'film',
  'coffee',
  'running',
  'garden',
  'cats',
] as const;

const DAY_MS = 86_400_000;
const LIKE_SHAPE = 1.6;
const LIKE_SHAPE_LESS_ONE = LIKE_SHAPE - 1;
const COMMENTS_MAX = 200;

/**
 * A UUIDv7 string: 48 bits of ms, version 7, variant 10, 26 bits from a
 * hash and a 48-bit tail that is unique by construction (the caller's key).
 */
function uuidV7(ms: number, hash: number, tail: string): string {
  const msHex = hex(Math.floor(ms / 2 ** 24), 6) + hex(ms % 2 ** 24, 6);
  return `${msHex.slice(0, 8)}-${msHex.slice(8, 12)}-7${hex(hash, 3)}-${hex(0x8000 | ((hash >>> 12) & 0x3fff), 4)}-${tail}`;
}

function zipfCdf(size: number, exponent: number): Float64Array {
  const cdf = new Float64Array(size);
  let total = 0;
  for (let r = 0; r < size; r++) {
    total += (r + 1) ** -exponent;
    cdf[r] = total;
  }
  for (let r = 0; r < size; r++) cdf[r] = (cdf[r] as number) / total;
  return cdf;
}

function sample(cdf: Float64Array, x: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cdf[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Salts that keep the per-post random streams independent. */
const SALT = { post: 0x27d4eb2f, likes: 0x165667b1, comments: 0x61c88647 } as const;

export function generatePosts(population: Population, input: PostPopulationOptions): PostPopulation {
  const options: Required<PostPopulationOptions> = {
    days: 90,
    avgLikes: 3,
    avgComments: 0.5,
    authorExponent: 0.8,
    ...input,
  };
  const { posts, endMs, days, avgLikes, avgComments, authorExponent } = options;
  if (!Number.isInteger(posts) || posts < 0) throw new RangeError('posts must be a non-negative integer');
  if (!Number.isInteger(endMs) || endMs < days * DAY_MS) throw new RangeError('endMs must be an epoch ms');
  if (!(avgLikes >= 0) || !(avgComments >= 0)) throw new RangeError('averages must be >= 0');
  const users = population.options.users;
  const seed = population.options.seed >>> 0;
  const authorCdf = zipfCdf(users, authorExponent);
  const tagCdf = zipfCdf(SEED_HASHTAGS.length, 1.1);
  // Author ranks spread over the users (another permutation than follow popularity's).
  const multiplier = 2_246_822_519 % users;
  const permutes = multiplier !== 0 && gcd(multiplier, users) === 1;
  const rankToUser = (rank: number): number => (permutes ? (rank * multiplier + seed) % users : rank);
  const spanMs = days * DAY_MS;
  const startMs = endMs - spanMs;
  const likeCap = Math.max(0, Math.min(users - 1, 10_000));

  // Likes: Lomax (Pareto II) with shape 1.6 and the asked mean, rounded: most
  // posts a few likes, a few posts thousands. Comments: exponential, rounded.
  const likeCountOf = (index: number): number => {
    const u = prng(hash2(seed ^ SALT.likes, index))();
    return Math.min(likeCap, Math.round(avgLikes * LIKE_SHAPE_LESS_ONE * ((1 - u) ** (-1 / LIKE_SHAPE) - 1)));
  };
  const commentCountOf = (index: number): number => {
    const u = prng(hash2(seed ^ SALT.comments, index))();
    return Math.min(COMMENTS_MAX, Math.round(-Math.log(1 - u) * avgComments));
  };

  const post = (index: number): SeedPost => {
    if (!Number.isInteger(index) || index < 0 || index >= posts) throw new RangeError(`no post ${index}`);
    const random = prng(hash2(seed ^ SALT.post, index));
    // The first draw is the author (authorOf repeats it alone).
    const authorIndex = rankToUser(sample(authorCdf, random()));
    // Evenly spaced, index order = time order; the jitter stays within the slot.
    const slot = spanMs / Math.max(1, posts);
    const createdAtMs = Math.floor(startMs + index * slot + random() * slot * 0.9) + 1;
    const tagDraw = random();
    const hashtags: string[] = [];
    if (tagDraw < 0.6) hashtags.push(SEED_HASHTAGS[sample(tagCdf, random())] as string);
    if (tagDraw < 0.15) {
      const second = SEED_HASHTAGS[sample(tagCdf, random())] as string;
      if (!hashtags.includes(second)) hashtags.push(second);
    }
    const v = random();
    const visibility: SeedVisibility = v < 0.9 ? 'public' : v < 0.98 ? 'followers' : 'private';
    const words = `seeded post ${index} by user${authorIndex}`;
    return {
      index,
      id: uuidV7(createdAtMs, hash2(seed, index ^ SALT.post), hex(index, 12)),
      authorIndex,
      createdAtMs,
      text: hashtags.length > 0 ? `${words} ${hashtags.map((t) => `#${t}`).join(' ')}` : words,
      hashtags,
      visibility,
      likeCount: likeCountOf(index),
      commentCount: commentCountOf(index),
    };
  };

  let likeTotal = 0;
  let commentTotal = 0;
  for (let i = 0; i < posts; i++) {
    likeTotal += likeCountOf(i);
    commentTotal += commentCountOf(i);
  }

  const authorOf = (index: number): number =>
    rankToUser(sample(authorCdf, prng(hash2(seed ^ SALT.post, index))()));
  let counts: Uint32Array | undefined;
  const postCounts = (): Uint32Array => {
    if (!counts) {
      counts = new Uint32Array(users);
      for (let i = 0; i < posts; i++) {
        const a = authorOf(i);
        counts[a] = (counts[a] as number) + 1;
      }
    }
    return counts;
  };

  function* postChunks(chunkSize = 10_000): Iterable<SeedPost[]> {
    for (let start = 0; start < posts; start += chunkSize) {
      const chunk: SeedPost[] = [];
      for (let i = start; i < Math.min(posts, start + chunkSize); i++) chunk.push(post(i));
      yield chunk;
    }
  }

  /** Distinct users other than the author; Zipf-drawn so popular accounts like more. */
  const likers = (index: number): Uint32Array => {
    const { likeCount, authorIndex } = post(index);
    const out = new Uint32Array(likeCount);
    if (likeCount === 0) return out;
    const random = prng(hash2(seed ^ SALT.likes, index + 1));
    const chosen = new Set<number>();
    for (let attempts = 0; chosen.size < likeCount && attempts < likeCount * 20; attempts++) {
      const u = Math.floor(random() * users);
      if (u !== authorIndex) chosen.add(u);
    }
    for (let u = 0; chosen.size < likeCount; u++) if (u !== authorIndex) chosen.add(u);
    let i = 0;
    for (const u of chosen) out[i++] = u;
    return out;
  };

  const comments = (index: number): SeedComment[] => {
    const p = post(index);
    const out: SeedComment[] = [];
    const random = prng(hash2(seed ^ SALT.comments, index + 1));
    // Comments follow the post within its slot's next hour, in order.
    let at = p.createdAtMs;
    const topLevel: number[] = [];
    for (let n = 0; n < p.commentCount; n++) {
      at += 1 + Math.floor(random() * 60_000);
      const authorIndex = Math.floor(random() * users);
      const reply = topLevel.length > 0 && random() < 0.3;
      const parentNumber = reply ? (topLevel[Math.floor(random() * topLevel.length)] as number) : null;
      if (parentNumber === null) topLevel.push(n);
      out.push({
        id: uuidV7(at, hash2(index, n ^ SALT.comments), `${hex(index, 8)}${hex(n, 4)}`),
        postIndex: index,
        authorIndex,
        parentNumber,
        createdAtMs: at,
        text: `seeded comment ${n} on post ${index}`,
      });
    }
    return out;
  };

  return {
    options,
    count: posts,
    likeTotal,
    commentTotal,
    post,
    authorOf,
    postCounts,
    postChunks,
    likers,
    comments,
  };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
