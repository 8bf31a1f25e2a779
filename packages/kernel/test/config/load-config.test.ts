import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/index.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to refuse the environment');
}

const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');
const SIGNING_KEYS = JSON.stringify([{ kty: 'OKP', crv: 'Ed25519', d: 'x', x: 'y' }]);

describe('loadConfig', () => {
  it('gives the all-in-one shape by default', () => {
    const config = loadConfig({});
    expect(config.env).toBe('development');
    expect(config.http).toEqual({
      port: 8080,
      host: '0.0.0.0',
      bodyLimit: 1024 * 1024,
      publicUrl: 'http://localhost:8080',
      // Closed edges by default: no cross-origin callers, no trusted proxy, metrics for loopback only.
      corsOrigins: [],
      trustedProxies: [],
      metrics: { allow: ['127.0.0.1/8', '::1/128'], token: undefined },
    });
    expect(config.dataDir).toBe(path.resolve('./data'));
    expect(config.target).toBe('all');
    expect(config.shutdownTimeoutMs).toBe(30_000);
    expect(config.redis).toEqual({
      urls: {},
      keyPrefix: 'nova:',
      connectTimeoutMs: 5000,
      commandTimeoutMs: 2000,
    });
    expect(config.database).toMatchObject({ connectTimeoutMs: 5000, statementTimeoutMs: 30_000 });
    expect(config.database.urls).toEqual({});
    expect(config.kafka).toBeUndefined();
    expect(config.serviceUrls).toEqual({});
  });

  it('reads integers and strings from the environment', () => {
    const config = loadConfig({ PORT: '9090', NOVA_BODY_LIMIT_BYTES: '4096', NOVA_TARGET: 'auth,social' });
    expect(config.http.port).toBe(9090);
    expect(config.http.publicUrl).toBe('http://localhost:9090');
    expect(config.http.bodyLimit).toBe(4096);
    expect(config.target).toBe('auth,social');
  });

  it('names every bad key in one ConfigError', () => {
    const error = configError({
      PORT: 'eighty',
      NOVA_SHUTDOWN_TIMEOUT_MS: '5',
      LOG_LEVEL: 'loud',
      NOVA_ENV: 'staging',
    });
    const text = error.problems.join('\n');
    for (const key of ['PORT', 'NOVA_SHUTDOWN_TIMEOUT_MS', 'LOG_LEVEL', 'NOVA_ENV'])
      expect(text).toContain(key);
    expect(error.message).toContain('PORT');
    expect(error.message).toContain('LOG_LEVEL');
  });

  it('refuses production without signing and encryption keys', () => {
    const error = configError({ NOVA_ENV: 'production' });
    const text = error.problems.join('\n');
    expect(text).toContain('AUTH_SIGNING_KEYS');
    expect(text).toContain('AUTH_ENCRYPTION_KEY');
  });

  it('accepts production with well-formed keys', () => {
    const config = loadConfig({
      NOVA_ENV: 'production',
      AUTH_SIGNING_KEYS: SIGNING_KEYS,
      AUTH_ENCRYPTION_KEY: ENCRYPTION_KEY,
    });
    expect(config.env).toBe('production');
    expect(config.auth.encryptionKey).toBe(ENCRYPTION_KEY);
  });

  it('refuses malformed keys', () => {
    const error = configError({ AUTH_SIGNING_KEYS: 'not json', AUTH_ENCRYPTION_KEY: 'A'.repeat(60) });
    const text = error.problems.join('\n');
    expect(text).toContain('AUTH_SIGNING_KEYS');
    expect(text).toContain('AUTH_ENCRYPTION_KEY');
  });

  it('accepts URL-valued settings and derives one Redis URL per role', () => {
    const config = loadConfig({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_CACHE_URL: 'redis://127.0.0.1:6380',
      NOVA_PUBLIC_URL: 'https://nova.example/',
    });
    expect(config.redis.urls).toEqual({
      security: 'redis://127.0.0.1:6379',
      cache: 'redis://127.0.0.1:6380',
      realtime: 'redis://127.0.0.1:6379',
    });
    expect(config.http.publicUrl).toBe('https://nova.example');
  });

  it('refuses split databases without Kafka', () => {
    const error = configError({ AUTH_DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/auth' });
    expect(error.problems.join('\n')).toContain('KAFKA_BROKERS');
  });
});
