import { ConfigError } from '@nova/kernel';
import { describe, expect, it } from 'vitest';
import { loadAuthConfig } from '../support/config.js';

function problems(env: Record<string, string>): string[] {
  try {
    loadAuthConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the auth config to be refused');
}

const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
const SIGNING_KEYS = JSON.stringify([{ kty: 'OKP', crv: 'Ed25519', d: 'x', x: 'y' }]);

describe("auth's config", () => {
  it('derives the settings auth reads, with defaults', () => {
    const config = loadAuthConfig({ LOGIN_MAX_FAILURES: '3' });
    expect(config.auth).toEqual({
      signingKeys: undefined,
      encryptionKey: undefined,
      acceptedEncryptionKeys: [],
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 2_592_000,
      argon2: { memoryCost: 19_456, timeCost: 2 },
      login: { maxFailures: 3, maxFailuresPerIp: 50, windowSeconds: 900 },
      refreshReuseGraceSeconds: 10,
      registration: { maxPerIp: 20, windowSeconds: 3600 },
    });
    expect(config.mail).toEqual({ smtpUrl: undefined, from: 'Nova <no-reply@nova.local>' });
  });

  it('refuses production without signing and encryption keys, naming auth', () => {
    expect(problems({ NOVA_ENV: 'production' })).toEqual([
      'AUTH_SIGNING_KEYS (auth): required in production',
      'AUTH_ENCRYPTION_KEY (auth): required in production',
    ]);
  });

  it('accepts production with well-formed keys', () => {
    const config = loadAuthConfig({
      NOVA_ENV: 'production',
      AUTH_SIGNING_KEYS: SIGNING_KEYS,
      AUTH_ENCRYPTION_KEY: ENCRYPTION_KEY,
    });
    expect(config.env).toBe('production');
    expect(config.auth.encryptionKey).toBe(ENCRYPTION_KEY);
  });

  it('refuses malformed keys and values, every one at once', () => {
    expect(
      problems({ AUTH_SIGNING_KEYS: 'not json', AUTH_ENCRYPTION_KEY: 'A'.repeat(60), SMTP_URL: 'nope' }),
    ).toEqual([expect.stringMatching(/^SMTP_URL \(auth\): /)]);
    expect(problems({ AUTH_SIGNING_KEYS: '[]', AUTH_ENCRYPTION_KEY: 'A'.repeat(60) })).toEqual([
      'AUTH_ENCRYPTION_KEY (auth): must be 32 bytes, base64-encoded',
      'AUTH_SIGNING_KEYS (auth): must be a JSON array of Ed25519 private JWKs',
    ]);
    expect(problems({ ARGON2_TIME_COST: 'two', PORT: 'x' })).toEqual([
      'PORT: expected an integer, got "x"',
      'ARGON2_TIME_COST (auth): expected an integer, got "two"',
    ]);
  });
});
