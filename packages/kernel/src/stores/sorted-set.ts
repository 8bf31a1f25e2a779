import type { RangeQuery, ScoredMember } from './key-value-store.js';

/** Redis' order: score, then member by code unit (byte order for the ASCII ids Nova stores). */
function compare(a: ScoredMember, b: ScoredMember): number {
  if (a.score !== b.score) return a.score < b.score ? -1 : 1;
  if (a.member === b.member) return 0;
  return a.member < b.member ? -1 : 1;
}

export function assertFiniteScore(score: number): void {
  if (!Number.isFinite(score)) throw new RangeError(`sorted-set score must be a finite number, got ${score}`);
}

/**
 * The in-process sorted set behind the memory store: an ascending array
 * (binary search, splice) plus a member → score map. Timelines are capped
 * at hundreds of members, so an O(n) splice beats a skip list's constant.
 */
export class MemorySortedSet {
  readonly #scores = new Map<string, number>();
  readonly #sorted: ScoredMember[] = [];

  get size(): number {
    return this.#sorted.length;
  }

  score(member: string): number | undefined {
    return this.#scores.get(member);
  }

  /** True when the member is new. */
  add(member: string, score: number): boolean {
    const previous = this.#scores.get(member);
    if (previous === score) return false;
    if (previous !== undefined) this.#removeAt(this.#indexOf({ member, score: previous }));
    const entry = { member, score };
    this.#sorted.splice(this.#insertionPoint(entry), 0, entry);
    this.#scores.set(member, score);
    return previous === undefined;
  }

  remove(member: string): boolean {
    const score = this.#scores.get(member);
    if (score === undefined) return false;
    this.#removeAt(this.#indexOf({ member, score }));
    return true;
  }

  removeByScore(min: number, max: number): number {
    const [from, to] = this.#scoreBounds({ min, max });
    if (to <= from) return 0;
    for (const { member } of this.#sorted.splice(from, to - from)) this.#scores.delete(member);
    return to - from;
  }

  /** Drops the lowest members until `keep` remain. */
  trim(keep: number): number {
    const excess = this.#sorted.length - Math.max(0, keep);
    if (excess <= 0) return 0;
    for (const { member } of this.#sorted.splice(0, excess)) this.#scores.delete(member);
    return excess;
  }

  range(query: RangeQuery = {}): ScoredMember[] {
    const [from, to] = this.#scoreBounds(query);
    const offset = Math.max(0, query.offset ?? 0);
    const count = Math.max(0, Math.min(query.limit ?? Number.POSITIVE_INFINITY, to - from - offset));
    if (count === 0) return [];
    const slice =
      (query.order ?? 'desc') === 'desc'
        ? this.#sorted.slice(to - offset - count, to - offset).reverse()
        : this.#sorted.slice(from + offset, from + offset + count);
    return slice.map((e) => ({ member: e.member, score: e.score }));
  }

  /** [from, to): the ascending index range whose scores lie within the query's bounds. */
  #scoreBounds(query: RangeQuery): [number, number] {
    const from =
      query.min === undefined
        ? 0
        : this.#firstIndex((e) => (query.minExclusive ? e.score > query.min! : e.score >= query.min!));
    const to =
      query.max === undefined
        ? this.#sorted.length
        : this.#firstIndex((e) => (query.maxExclusive ? e.score >= query.max! : e.score > query.max!));
    return [from, Math.max(from, to)];
  }

  /** First index whose entry satisfies a predicate that is monotone over the order. */
  #firstIndex(predicate: (entry: ScoredMember) => boolean): number {
    let lo = 0;
    let hi = this.#sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (predicate(this.#sorted[mid]!)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  #insertionPoint(entry: ScoredMember): number {
    return this.#firstIndex((e) => compare(e, entry) >= 0);
  }

  #indexOf(entry: ScoredMember): number {
    return this.#insertionPoint(entry);
  }

  #removeAt(index: number): void {
    const [removed] = this.#sorted.splice(index, 1);
    if (removed) this.#scores.delete(removed.member);
  }
}
