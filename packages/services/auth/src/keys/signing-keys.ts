import path from 'node:path';
import { ACCESS_TOKEN_ALGORITHM } from '@nova/contracts';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
} from 'jose';
import type { AuthConfig } from '../config.js';
import { readOrCreateSecretFile } from './key-files.js';

export const SIGNING_ALGORITHM = ACCESS_TOKEN_ALGORITHM;
const KEY_FILE = 'signing-keys.json';

export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

/**
 * The access-token key set. The first key signs; every key verifies, so a
 * rotated-out key keeps verifying the tokens it signed until they expire.
 * Keys are imported once: verification never parses a JWK.
 */
export interface SigningKeys {
  readonly currentKid: string;
  readonly signingKey: CryptoKey;
  /** kid → public key, for jose's key resolver. */
  readonly verificationKeys: ReadonlyMap<string, CryptoKey>;
  /** What /.well-known/jwks.json serves. */
  readonly jwks: { keys: PublicJwk[] };
}

/**
 * Production: `AUTH_SIGNING_KEYS` (JSON array of Ed25519 private JWKs).
 * Development / all-in-one: one key generated on first start and kept in
 * `<dataDir>/keys/signing-keys.json` (same format) so restarts keep tokens valid.
 */
export async function loadSigningKeys(config: Pick<AuthConfig, 'auth' | 'dataDir'>): Promise<SigningKeys> {
  const source =
    config.auth.signingKeys ??
    (await readOrCreateSecretFile(path.join(config.dataDir, 'keys'), KEY_FILE, async () =>
      JSON.stringify([await generateSigningJwk()], null, 2),
    ));
  return importSigningKeys(parseJwkArray(source));
}

/** A fresh Ed25519 private JWK with its thumbprint as kid (what operators put in AUTH_SIGNING_KEYS). */
export async function generateSigningJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(SIGNING_ALGORITHM, { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: SIGNING_ALGORITHM };
}

export async function importSigningKeys(jwks: readonly JWK[]): Promise<SigningKeys> {
  if (jwks.length === 0) throw new Error('the signing key set is empty');
  const verificationKeys = new Map<string, CryptoKey>();
  const published: PublicJwk[] = [];
  let current: { kid: string; key: CryptoKey } | undefined;
  for (const jwk of jwks) {
    if (
      jwk.kty !== 'OKP' ||
      jwk.crv !== 'Ed25519' ||
      typeof jwk.x !== 'string' ||
      typeof jwk.d !== 'string'
    ) {
      throw new Error('signing keys must be Ed25519 private JWKs (kty OKP, crv Ed25519, x and d)');
    }
    const publicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x } as const;
    const kid = jwk.kid ?? (await calculateJwkThumbprint(publicJwk));
    if (verificationKeys.has(kid)) throw new Error(`duplicate signing key id "${kid}"`);
    verificationKeys.set(kid, (await importJWK(publicJwk, SIGNING_ALGORITHM)) as CryptoKey);
    published.push({ ...publicJwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' });
    if (!current) current = { kid, key: (await importJWK({ ...jwk, kid }, SIGNING_ALGORITHM)) as CryptoKey };
  }
  if (!current) throw new Error('the signing key set is empty');
  return {
    currentKid: current.kid,
    signingKey: current.key,
    verificationKeys,
    jwks: { keys: published },
  };
}

function parseJwkArray(source: string): JWK[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch {
    throw new Error('signing keys are not valid JSON');
  }
  if (!Array.isArray(parsed) || !parsed.every((k) => typeof k === 'object' && k !== null)) {
    throw new Error('signing keys must be a JSON array of JWK objects');
  }
  return parsed as JWK[];
}
