import { ValidationError } from '@nova/kernel';

/** A device id is the client's choice, shaped like every other id in the API. */
export const DEVICE_ID_PATTERN = '^[A-Za-z0-9_-]+$';
export const DEVICE_ID_MAX = 64;

/** Standard base64 with padding (RFC 4648 §4), non-empty. */
export const BASE64_PATTERN =
  '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$';
/**
 * 1 KiB of key material per key, as base64 characters: far above any real
 * curve key or signature (X25519 + Ed25519 signature is under 150 bytes), so
 * only abuse reaches it.
 */
export const KEY_BASE64_MAX = Math.ceil(1024 / 3) * 4;

export interface KeyLimits {
  /** One-time pre-keys one PUT may upload. */
  perRequest: number;
  /** One-time pre-keys one device may hold unclaimed. */
  perDevice: number;
}

export const KEY_LIMITS: KeyLimits = { perRequest: 100, perDevice: 500 };

export function tooManyOneTimePreKeys(limit: number): ValidationError {
  return new ValidationError(
    `A device holds at most ${limit} unclaimed one-time pre-keys.`,
    [{ field: '/oneTimePreKeys', message: `more than ${limit} unclaimed keys for this device` }],
    'too_many_one_time_pre_keys',
  );
}
