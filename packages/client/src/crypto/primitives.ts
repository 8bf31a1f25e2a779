/**
 * The audited primitives the end-to-end layer uses, wired in one place
 * (@noble/curves, @noble/hashes, @noble/ciphers — no home-made cryptography).
 * Randomness comes from Web Crypto's `getRandomValues` (Node ≥ 19 and every
 * browser), never from Math.random.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { equalBytes as nobleEqualBytes } from '@noble/ciphers/utils.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { hkdf as nobleHkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

export const KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const AEAD_NONCE_BYTES = 12;

export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  globalThis.crypto.getRandomValues(out);
  return out;
}

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** An X25519 key pair (RFC 7748) for Diffie-Hellman. */
export function generateDhKeyPair(): KeyPair {
  const secretKey = randomBytes(KEY_BYTES);
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
}

export function dhPublicKey(secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(secretKey);
}

/** X25519(secret, public); refuses low-order public keys (an all-zero shared secret). */
export function dh(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return x25519.getSharedSecret(secretKey, publicKey);
}

/** An Ed25519 key pair (RFC 8032): the device's long-term identity. */
export function generateSigningKeyPair(): KeyPair {
  const secretKey = randomBytes(KEY_BYTES);
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

export function sign(secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, secretKey);
}

export function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey);
  } catch {
    return false; // a malformed point or signature is simply not valid
  }
}

/**
 * The identity key as an X25519 key for X3DH: the birational map from
 * Ed25519 to Curve25519 (libsodium's crypto_sign_ed25519_pk_to_curve25519),
 * so one published identity key both signs pre-keys and takes part in DH.
 */
export function identityDhPublicKey(identityPublicKey: Uint8Array): Uint8Array {
  return ed25519.utils.toMontgomery(identityPublicKey);
}

export function identityDhSecretKey(identitySecretKey: Uint8Array): Uint8Array {
  return ed25519.utils.toMontgomerySecret(identitySecretKey);
}

/** HKDF-SHA-256 (RFC 5869). */
export function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return nobleHkdf(sha256, ikm, salt, info, length);
}

/** HMAC-SHA-256 (RFC 2104). */
export function hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array {
  return hmac(sha256, key, message);
}

/** AES-256-GCM: ciphertext with its 16-byte tag appended. */
export function aeadSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Uint8Array {
  return gcm(key, nonce, ad).encrypt(plaintext);
}

/** Opens an AES-256-GCM box; throws when the tag does not match (tampered or wrong key). */
export function aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array {
  return gcm(key, nonce, ad).decrypt(sealed);
}

/** Constant-time equality of two byte strings. */
export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => nobleEqualBytes(a, b);
