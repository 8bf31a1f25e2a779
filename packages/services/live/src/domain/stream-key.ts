import { createHash, randomBytes } from 'node:crypto';

/**
 * A stream key: 32 random bytes, base64url (letters, digits, `-`, `_`: a
 * valid RTMP stream name). Only its SHA-256 is stored; a fast hash is
 * enough for 256 bits of randomness (no dictionary to try).
 */
export function newStreamKey(): string {
  return randomBytes(32).toString('base64url');
}

export function hashStreamKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What a stream name on the ingest URL must look like before it is even looked up. */
export function isWellFormedKey(name: string): boolean {
  return /^[A-Za-z0-9_-]{16,128}$/.test(name);
}
