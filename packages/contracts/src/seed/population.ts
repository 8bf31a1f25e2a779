/**
 * A deterministic synthetic population for `nova seed` and benchmarks: users
 * and a power-law follow graph. It lives in contracts because every module's
 * seed hook loads its own share of the same population (auth the accounts,
 * social the profiles and follows, later content the posts) and they must
 * agree on ids without calling each other. Everything derives from (seed, user index), so
 * any chunk can be regenerated independently and nothing large is held in
 * memory: edges come out as typed-array chunks of user indices.
 */
import { hash2, hex, prng } from './random.js';

export interface PopulationOptions {
  users: number;
  seed: number;
  /** Mean number of accounts each user follows. */
  avgFollows: number;
  /**
   * Zipf exponent of target popularity (default 0.7): with 100k users and
   * 100 follows each, the top accounts get tens of thousands of followers and
   * the tail a few dozen.
   */
  zipfExponent?: number;
}

export interface SeedUser {
  /** 0-based index in the population. */
  index: number;
  id: string;
  username: string;
  email: string;
  createdAt: string;
}

/** A run of follow edges as parallel arrays of user indices. */
export interface FollowChunk {
  followers: Uint32Array;
  followees: Uint32Array;
  length: number;
}

export interface Population {
  readonly options: Required<PopulationOptions>;
  /** Exact number of follow edges the population yields. */
  readonly followCount: number;
  userId(index: number): string;
  user(index: number): SeedUser;
  userChunks(chunkSize?: number): Iterable<SeedUser[]>;
  followChunks(chunkSize?: number): Iterable<FollowChunk>;
  /** Per-user follower and following counts of the generated graph (one pass, memoised). */
  counts(): { followers: Uint32Array; following: Uint32Array };
}

const EPOCH_MS = Date.UTC(2024, 0, 1);
const MAX_OUT_DEGREE = 5_000;

export function generatePopulation(input: PopulationOptions): Population {
  const options: Required<PopulationOptions> = { zipfExponent: 0.7, ...input };
  const { users, seed, avgFollows, zipfExponent } = options;
  if (!Number.isInteger(users) || users < 1 || users > 2 ** 32 - 1)
    throw new RangeError('users must be a positive integer');
  if (!(avgFollows >= 0)) throw new RangeError('avgFollows must be >= 0');

  // Target popularity: rank r (0-based) is chosen with probability ∝ (r + 1)^-s.
  const cdf = new Float64Array(users);
  let total = 0;
  for (let r = 0; r < users; r++) {
    total += (r + 1) ** -zipfExponent;
    cdf[r] = total;
  }
  for (let r = 0; r < users; r++) cdf[r] = (cdf[r] as number) / total;
  // Ranks are spread over the population so popular accounts are not all the first users.
  // A prime multiplier permutes 0..users-1 unless users is a multiple of it.
  const RANK_MULTIPLIER = 2_654_435_761;
  const multiplier = RANK_MULTIPLIER % users;
  const permutationIsBijective = multiplier !== 0;
  const rankToUser = (rank: number): number => (rank * multiplier + (seed >>> 0)) % users;

  const maxDegree = Math.min(MAX_OUT_DEGREE, Math.floor((users - 1) / 2));
  const degrees = new Uint32Array(users);
  let followCount = 0;
  for (let u = 0; u < users; u++) {
    const random = prng(hash2(seed, u));
    // Exponential out-degree with the requested mean: most follow a few, some follow many.
    const d = Math.min(maxDegree, Math.round(-Math.log(1 - random()) * avgFollows));
    degrees[u] = d;
    followCount += d;
  }

  const sampleRank = (x: number): number => {
    let lo = 0;
    let hi = users - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const target = (rank: number): number => (permutationIsBijective ? rankToUser(rank) : rank);

  const userId = (index: number): string => {
    const a = hash2(seed, index);
    const b = hash2(a, index);
    // The last 12 hex digits are the index itself: unique by construction.
    return `${hex(a, 8)}-${hex(b >>> 16, 4)}-4${hex(b, 3)}-${hex(0x8000 | (a & 0x3fff), 4)}-${hex(index, 12)}`;
  };
  const user = (index: number): SeedUser => ({
    index,
    id: userId(index),
    username: `user${index}`,
    email: `user${index}@seed.nova.local`,
    createdAt: new Date(EPOCH_MS + index * 60_000).toISOString(),
  });

  function* userChunks(chunkSize = 10_000): Iterable<SeedUser[]> {
    for (let start = 0; start < users; start += chunkSize) {
      const chunk: SeedUser[] = [];
      for (let i = start; i < Math.min(users, start + chunkSize); i++) chunk.push(user(i));
      yield chunk;
    }
  }

  function* followChunks(chunkSize = 100_000): Iterable<FollowChunk> {
    let followers = new Uint32Array(chunkSize);
    let followees = new Uint32Array(chunkSize);
    let length = 0;
    const chosen = new Set<number>();
    for (let u = 0; u < users; u++) {
      const d = degrees[u] as number;
      if (d === 0) continue;
      const random = prng(hash2(seed ^ 0x5bd1e995, u));
      chosen.clear();
      for (let attempts = 0; chosen.size < d && attempts < d * 50; attempts++) {
        const v = target(sampleRank(random()));
        if (v !== u) chosen.add(v);
      }
      // Small populations can exhaust the popular ranks: fill up deterministically.
      for (let v = 0; chosen.size < d; v++) if (v !== u) chosen.add(v);
      for (const v of chosen) {
        followers[length] = u;
        followees[length] = v;
        length++;
        if (length === chunkSize) {
          yield { followers, followees, length };
          followers = new Uint32Array(chunkSize);
          followees = new Uint32Array(chunkSize);
          length = 0;
        }
      }
    }
    if (length > 0)
      yield { followers: followers.subarray(0, length), followees: followees.subarray(0, length), length };
  }

  let memo: { followers: Uint32Array; following: Uint32Array } | undefined;
  const counts = () => {
    if (!memo) {
      const followers = new Uint32Array(users);
      for (const chunk of followChunks()) {
        for (let i = 0; i < chunk.length; i++) {
          const v = chunk.followees[i] as number;
          followers[v] = (followers[v] as number) + 1;
        }
      }
      memo = { followers, following: degrees };
    }
    return memo;
  };

  return { options, followCount, userId, user, userChunks, followChunks, counts };
}
