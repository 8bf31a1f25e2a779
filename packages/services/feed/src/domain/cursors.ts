import { ValidationError } from '@nova/kernel';

/** A place in newest-first order: (creation time, post id), both compared strictly. */
export interface FeedPosition {
  createdAtMs: number;
  postId: string;
}

/** The ranked feed's place: the instant its scores were computed for, and the last (score, id) served. */
export interface RankedPosition {
  anchorMs: number;
  score: number;
  postId: string;
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function decode(cursor: string): unknown {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
}

const invalidCursor = () =>
  new ValidationError(
    'The cursor is not one this feed issued.',
    [{ field: 'cursor', message: 'invalid cursor' }],
    'invalid_cursor',
  );

const isPostId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 128;

export function encodeChronologicalCursor(position: FeedPosition): string {
  return encode({ k: 'c', t: position.createdAtMs, p: position.postId });
}

export function encodeRankedCursor(position: RankedPosition): string {
  return encode({ k: 'r', a: position.anchorMs, s: position.score, p: position.postId });
}

/** Reads a cursor of either feed; a cursor of the other algorithm or a forged one is a 400. */
export function decodeChronologicalCursor(cursor: string): FeedPosition {
  const v = decode(cursor) as { k?: unknown; t?: unknown; p?: unknown };
  if (v?.k !== 'c' || !Number.isSafeInteger(v.t) || !isPostId(v.p)) throw invalidCursor();
  return { createdAtMs: v.t as number, postId: v.p };
}

export function decodeRankedCursor(cursor: string): RankedPosition {
  const v = decode(cursor) as { k?: unknown; a?: unknown; s?: unknown; p?: unknown };
  if (
    v?.k !== 'r' ||
    !Number.isSafeInteger(v.a) ||
    typeof v.s !== 'number' ||
    !Number.isFinite(v.s) ||
    !isPostId(v.p)
  )
    throw invalidCursor();
  return { anchorMs: v.a as number, score: v.s, postId: v.p };
}

/** Newest first: later creation first, then the larger id (the same order as the cache's sorted sets). */
export function newestFirst(a: FeedPosition, b: FeedPosition): number {
  if (a.createdAtMs !== b.createdAtMs) return b.createdAtMs - a.createdAtMs;
  return a.postId < b.postId ? 1 : a.postId > b.postId ? -1 : 0;
}

/** True when `p` comes strictly after `cursor` in newest-first order. */
export function isOlderThan(p: FeedPosition, cursor: FeedPosition | null): boolean {
  return cursor === null || newestFirst(cursor, p) < 0;
}
