import { createHash, randomBytes } from 'node:crypto';
import { ValidationError } from '@nova/kernel';

/** Opaque secrets (refresh, verification, reset): 32 random bytes, base64url. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Secrets are stored as their SHA-256: they carry 256 bits of entropy, so a
 * fast hash is enough and lookups stay an index probe.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** Syntactic shape of a token we issued; anything else is rejected without a query. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,512}$/;

/** A mailed token (verification or reset) that is malformed, unknown, expired or already used. */
export const invalidMailToken = () =>
  new ValidationError(
    'The token is unknown, expired or already used.',
    [{ field: '/token', message: 'invalid token' }],
    'invalid_token',
  );
