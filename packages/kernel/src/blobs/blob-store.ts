import type { Readable } from 'node:stream';

/** What a store knows about one stored object. */
export interface BlobInfo {
  key: string;
  size: number;
  contentType: string;
  /** Quoted entity tag, as sent in an ETag header; changes whenever the bytes do. */
  etag: string;
  lastModified: Date;
}

/** An inclusive byte range, as in `Range: bytes=start-end`; `end` omitted: to the last byte. */
export interface BlobRange {
  start: number;
  end?: number;
}

export interface BlobPutOptions {
  contentType: string;
}

export interface BlobObject {
  info: BlobInfo;
  /** The bytes asked for: the whole object, or the clamped range below. */
  body: Readable;
  /** The range served (inclusive, clamped to the size), when one was asked for. */
  range?: { start: number; end: number };
}

/**
 * Where media bytes live: files under NOVA_DATA_DIR/media in the all-in-one
 * shape, an S3-compatible bucket in the distributed one (an engine adapter,
 * @nova/s3). Bytes always travel as streams, so no object is ever held whole
 * in memory. Keys are relative paths (`media/<id>/original`): letters, digits,
 * `._-` and `/`, no empty or dot segments.
 */
export interface BlobStore {
  readonly kind: string;
  /**
   * Stores the stream under `key`, replacing any object there. Readers see
   * the old object or the complete new one, never a part. If the stream
   * fails (e.g. a size limit destroys it), nothing is stored and the
   * stream's error is rethrown.
   */
  put(key: string, body: Readable, options: BlobPutOptions): Promise<BlobInfo>;
  /** The object's bytes; BlobNotFoundError when absent; BlobRangeError when the range starts past the end. */
  get(key: string, range?: BlobRange): Promise<BlobObject>;
  /** The object's metadata, or undefined when absent. */
  head(key: string): Promise<BlobInfo | undefined>;
  /** Removes the object; absent is not an error. */
  delete(key: string): Promise<void>;
  /** Removes every object whose key starts with `prefix` (which must end in `/`); resolves to how many. */
  deletePrefix(prefix: string): Promise<number>;
  /**
   * A time-limited URL a client can GET the object from directly, when the
   * engine has such URLs (S3); undefined otherwise (served through Nova).
   */
  presignedUrl?(key: string, expiresInSeconds: number): Promise<string>;
  /** Health probe: throws when the store cannot be reached. */
  check?(): Promise<void>;
  close?(): Promise<void>;
}

export class BlobNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`no blob at ${key}`);
    this.name = 'BlobNotFoundError';
  }
}

/** The requested range starts at or past the object's end (HTTP 416). */
export class BlobRangeError extends Error {
  constructor(
    readonly key: string,
    readonly size: number,
  ) {
    super(`range not satisfiable for ${key} (size ${size})`);
    this.name = 'BlobRangeError';
  }
}

const KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

/** Refuses keys that could escape a directory or differ between engines. */
export function assertBlobKey(key: string): void {
  if (key.length > 512 || !KEY.test(key) || key.split('/').some((s) => s === '.' || s === '..')) {
    throw new Error(`invalid blob key "${key}"`);
  }
}

export function assertBlobPrefix(prefix: string): void {
  if (!prefix.endsWith('/')) throw new Error(`blob prefix "${prefix}" must end with /`);
  assertBlobKey(prefix.slice(0, -1));
}

/** Clamps a range to an object of `size` bytes; throws BlobRangeError when it cannot be served. */
export function clampRange(key: string, size: number, range: BlobRange): { start: number; end: number } {
  if (!Number.isInteger(range.start) || range.start < 0 || range.start >= size) {
    throw new BlobRangeError(key, size);
  }
  const end = Math.min(range.end ?? size - 1, size - 1);
  if (end < range.start) throw new BlobRangeError(key, size);
  return { start: range.start, end };
}
