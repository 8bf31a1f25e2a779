import { createECDH } from 'node:crypto';
import { type FieldIssue, ValidationError } from '@nova/kernel';

/** A browser's PushSubscription JSON as the API takes it. */
export interface PushSubscriptionInput {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * Checks what can be checked without the network: an absolute https URL
 * (http too when insecure endpoints are allowed) without credentials, a
 * p256dh that is a point on P-256, and a 16-byte auth secret. The address
 * the host resolves to is checked by the caller (push/public-address.ts).
 */
export function checkSubscription(input: PushSubscriptionInput, allowInsecure: boolean): URL {
  const issues: FieldIssue[] = [];
  let url: URL | undefined;
  try {
    url = new URL(input.endpoint);
  } catch {
    issues.push({ field: '/endpoint', message: 'must be an absolute URL' });
  }
  if (url) {
    const schemeOk = url.protocol === 'https:' || (allowInsecure && url.protocol === 'http:');
    if (!schemeOk) issues.push({ field: '/endpoint', message: 'must be an https URL' });
    if (url.username || url.password)
      issues.push({ field: '/endpoint', message: 'must not carry credentials' });
  }
  const p256dh = decode(input.keys.p256dh);
  if (p256dh?.length !== 65 || p256dh[0] !== 0x04 || !onCurve(p256dh))
    issues.push({
      field: '/keys/p256dh',
      message: 'must be a base64url uncompressed P-256 public key (65 bytes)',
    });
  const auth = decode(input.keys.auth);
  if (auth?.length !== 16)
    issues.push({ field: '/keys/auth', message: 'must be a base64url 16-byte authentication secret' });
  if (issues.length > 0 || !url)
    throw new ValidationError('The push subscription is not usable.', issues, 'invalid_push_subscription');
  return url;
}

export function endpointRefused(message: string): ValidationError {
  return new ValidationError(
    'The push subscription is not usable.',
    [{ field: '/endpoint', message }],
    'invalid_push_subscription',
  );
}

function decode(value: string): Buffer | undefined {
  if (!BASE64URL.test(value)) return undefined;
  return Buffer.from(value, 'base64url');
}

function onCurve(point: Buffer): boolean {
  try {
    const probe = createECDH('prime256v1');
    probe.generateKeys();
    probe.computeSecret(point);
    return true;
  } catch {
    return false;
  }
}
