import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '@nova/kernel';
import { describe, expect, it } from 'vitest';
import { configKeys } from '../src/commands/config.js';
import { CONFIG_COMPOSITION } from '../src/commands/load-config.js';

const load = (env: Record<string, string>) => loadConfig(env, CONFIG_COMPOSITION);

describe('the composed configuration of the registry', () => {
  it('a target that does not run auth requires none of auth’s settings', () => {
    const env = {
      NOVA_ENV: 'production',
      NOVA_AUTH_URL: 'grpc://auth:50051',
      NOVA_INTERNAL_TOKEN: 'an-internal-token-of-32-characters!',
      KAFKA_BROKERS: 'k:9092',
    };
    const social = load({ ...env, NOVA_TARGET: 'social', ARGON2_TIME_COST: 'ignored here' });
    expect(Object.keys(social.modules)).not.toContain('auth');
    expect(social.serviceUrls).toEqual({ auth: 'grpc://auth:50051' });
    let refused: ConfigError | undefined;
    try {
      load({ ...env, NOVA_TARGET: 'all', ARGON2_TIME_COST: 'two' });
    } catch (error) {
      if (error instanceof ConfigError) refused = error;
    }
    expect(refused?.problems).toEqual(['ARGON2_TIME_COST (auth): expected an integer, got "two"']);
  });

  it('names an unknown target as a bad NOVA_TARGET', () => {
    expect(() => load({ NOVA_TARGET: 'chat' })).toThrow(/NOVA_TARGET: unknown target "chat"/);
  });

  it('README lists every key any target reads', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Architecture'));
    const read = [...configKeys('all'), ...configKeys('gateway')].map((k) => k.key);
    const missing = read.filter((key) => !table.includes(`\`${key}\``));
    expect(missing).toEqual([]);
    // …and lists no key that nothing reads (first cell of each row).
    const known = new Set(read);
    const listed = [...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((row) =>
      [...(row[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]),
    );
    expect(listed.length).toBeGreaterThan(20);
    expect(listed.filter((key) => !known.has(key as string))).toEqual([]);
  });

  it('nova config lists the kernel keys and only the target’s module keys', () => {
    const social = configKeys('social').map((k) => k.key);
    expect(social).toContain('DATABASE_URL');
    expect(social).toContain('NOVA_AUTH_URL');
    expect(social).not.toContain('AUTH_SIGNING_KEYS');
    expect(configKeys('auth').map((k) => k.key)).toContain('AUTH_SIGNING_KEYS');
    const gateway = configKeys('gateway').map((k) => k.key);
    expect(gateway).toContain('NOVA_GATEWAY_RATE_LIMIT_PER_IP');
    expect(gateway).not.toContain('AUTH_SIGNING_KEYS');
    expect(social).not.toContain('NOVA_GATEWAY_RATE_LIMIT_PER_IP');
  });

  it('the gateway target needs no event log and takes service URLs as http://host:port', () => {
    const gateway = load({
      NOVA_TARGET: 'gateway',
      NOVA_CONTENT_URL: 'http://content:8080',
      NOVA_GATEWAY_TIMEOUTS: 'content=120000',
    });
    expect(gateway.serviceUrls).toEqual({ content: 'http://content:8080' });
    expect(gateway.modules.gateway).toMatchObject({ timeouts: { content: 120000 }, defaultTimeoutMs: 30000 });
    expect(() => load({ NOVA_TARGET: 'gateway', NOVA_GATEWAY_TIMEOUTS: 'content=fast' })).toThrow(
      /NOVA_GATEWAY_TIMEOUTS \(gateway\): "content=fast" is not service=milliseconds/,
    );
    expect(() => load({ NOVA_TARGET: 'social', NOVA_AUTH_URL: 'http://auth:8080' })).toThrow(/KAFKA_BROKERS/);
  });
});
