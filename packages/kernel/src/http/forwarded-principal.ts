import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from '../principal.js';

/**
 * How the gateway hands a service the caller it has already authenticated:
 * the principal as base64url JSON, and an HMAC-SHA256 of that value keyed
 * with NOVA_INTERNAL_TOKEN. A service believes the pair only when the MAC
 * checks with its own token and the principal has not expired; otherwise it
 * ignores both and verifies the bearer token itself.
 */
export const PRINCIPAL_HEADER = 'x-nova-principal';
export const PRINCIPAL_SIGNATURE_HEADER = 'x-nova-principal-signature';

const mac = (value: string, secret: string): Buffer => createHmac('sha256', secret).update(value).digest();

/** The two headers that carry `principal` to a service sharing `secret`. */
export function forwardedPrincipalHeaders(principal: Principal, secret: string): Record<string, string> {
  const value = Buffer.from(JSON.stringify(principal)).toString('base64url');
  return {
    [PRINCIPAL_HEADER]: value,
    [PRINCIPAL_SIGNATURE_HEADER]: mac(value, secret).toString('base64url'),
  };
}

/**
 * The forwarded principal when its MAC checks with one of `secrets` (the
 * current internal token, and others accepted during a rotation) and it is
 * still valid; else undefined.
 */
export function readForwardedPrincipal(
  headers: IncomingHttpHeaders,
  secrets: readonly string[],
  nowSeconds = Date.now() / 1000,
): Principal | undefined {
  const value = headers[PRINCIPAL_HEADER];
  const signature = headers[PRINCIPAL_SIGNATURE_HEADER];
  if (typeof value !== 'string' || typeof signature !== 'string') return undefined;
  const presented = Buffer.from(signature, 'base64url');
  const checks = (secret: string) => {
    const expected = mac(value, secret);
    return presented.length === expected.length && timingSafeEqual(presented, expected);
  };
  if (!secrets.some(checks)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const p = parsed as Partial<Principal> | null;
  if (
    !p ||
    typeof p.userId !== 'string' ||
    typeof p.sessionId !== 'string' ||
    typeof p.tokenId !== 'string' ||
    typeof p.expiresAt !== 'number' ||
    p.expiresAt <= nowSeconds
  )
    return undefined;
  return { userId: p.userId, sessionId: p.sessionId, tokenId: p.tokenId, expiresAt: p.expiresAt };
}
