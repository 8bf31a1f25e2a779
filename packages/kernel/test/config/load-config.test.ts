import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import {
  type ConfigComposition,
  ConfigError,
  defineModuleConfig,
  describeConfig,
  EnvInt,
  loadConfig,
  ModuleSettingsMissingError,
  moduleSettings,
} from '../../src/index.js';

function configError(env: Record<string, string>, composition?: ConfigComposition): ConfigError {
  try {
    loadConfig(env, composition);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to refuse the environment');
}

// Two modules as a service package declares them: own keys, own checks, own derived settings.
const mailConfig = defineModuleConfig({
  schema: Type.Object({
    MAILBOX_QUOTA_MB: EnvInt(1, 10_000, 100, 'mailbox quota'),
    MAILBOX_SECRET: Type.Optional(Type.String({ minLength: 8, description: 'required in production' })),
  }),
  derive(env, { kernel, problem }) {
    if (kernel.env === 'production' && !env.MAILBOX_SECRET)
      problem('MAILBOX_SECRET', 'required in production');
    return { quotaBytes: env.MAILBOX_QUOTA_MB * 1024 * 1024, dataDir: path.join(kernel.dataDir, 'mailbox') };
  },
});
const feedConfig = defineModuleConfig({
  schema: Type.Object({ FEED_PAGE_SIZE: EnvInt(1, 500, 50, 'items per feed page') }),
  derive: (env) => ({ pageSize: env.FEED_PAGE_SIZE }),
});
const mailbox = { name: 'mailbox', config: mailConfig };
const feed = { name: 'feed', config: feedConfig };
const targets: Record<string, (typeof mailbox | typeof feed)[]> = {
  all: [mailbox, feed],
  mailbox: [mailbox],
  feed: [feed],
};
const composition: ConfigComposition = {
  modules: [mailbox, feed],
  resolveTarget: (target) => {
    const modules = targets[target];
    if (!modules) throw new Error(`unknown target "${target}"`);
    return modules;
  },
};

describe('loadConfig (kernel keys)', () => {
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
    expect(config.modules).toEqual({});
    expect(config.grpc).toEqual({
      port: undefined,
      sharedPort: false,
      internalToken: undefined,
      acceptedInternalTokens: [],
    });
  });

  it('serves gRPC on the HTTP port for a split target, and on NOVA_GRPC_PORT too when set', () => {
    const kafka = { KAFKA_BROKERS: 'k:9092' };
    expect(loadConfig({ ...kafka, NOVA_TARGET: 'feed' }, composition).grpc).toMatchObject({
      port: undefined,
      sharedPort: true,
    });
    expect(loadConfig({ NOVA_TARGET: 'feed', NOVA_GRPC_PORT: '6000' }, composition).grpc.port).toBe(6000);
    expect(loadConfig({ NOVA_GRPC_PORT: '0' }).grpc.port).toBe(0);
    const split = loadConfig(
      { ...kafka, NOVA_TARGET: 'feed', NOVA_MAILBOX_URL: 'grpc://mail:50051' },
      composition,
    );
    expect(split.serviceUrls).toEqual({ mailbox: 'grpc://mail:50051' });
  });

  it('takes service URLs as http://host:port or grpc://host:port, and wants an internal token in production when split', () => {
    const kafka = { KAFKA_BROKERS: 'k:9092' };
    for (const url of ['https://mail:8080', 'http://mail', 'http://mail:8080/api', 'tcp://mail:1']) {
      const bad = configError({ ...kafka, NOVA_MAILBOX_URL: url }, composition);
      expect(bad.problems).toContain(
        'NOVA_MAILBOX_URL: must be http://host:port (the port of its process) or grpc://host:port',
      );
    }
    expect(
      loadConfig({ ...kafka, NOVA_TARGET: 'feed', NOVA_MAILBOX_URL: 'http://mail:8080' }, composition)
        .serviceUrls,
    ).toEqual({ mailbox: 'http://mail:8080' });
    const production = {
      ...kafka,
      NOVA_ENV: 'production',
      FEED_PAGE_SIZE: '20',
      NOVA_TARGET: 'feed',
      NOVA_MAILBOX_URL: 'grpc://mail:50051',
    };
    expect(configError(production, composition).problems).toEqual([
      'NOVA_INTERNAL_TOKEN: required in production when services run in separate processes',
    ]);
    const token = 'x'.repeat(32);
    expect(loadConfig({ ...production, NOVA_INTERNAL_TOKEN: token }, composition).grpc.internalToken).toBe(
      token,
    );
    expect(configError({ NOVA_INTERNAL_TOKEN: 'short' }).problems.join('\n')).toContain(
      'NOVA_INTERNAL_TOKEN',
    );
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

  it('names no service: the kernel alone reads no service keys', () => {
    const keys = describeConfig().map((k) => k.key);
    expect(keys).toContain('DATABASE_URL');
    expect(keys.filter((k) => /AUTH|SOCIAL|SMTP|MAIL|LOGIN|ARGON2|TOKEN_TTL/.test(k))).toEqual([]);
  });
});

describe('loadConfig (composed with modules)', () => {
  it('derives each running module its own settings', () => {
    const config = loadConfig({ MAILBOX_QUOTA_MB: '5', NOVA_DATA_DIR: '/srv/nova' }, composition);
    expect(moduleSettings(config, 'mailbox', mailConfig)).toEqual({
      quotaBytes: 5 * 1024 * 1024,
      dataDir: '/srv/nova/mailbox',
    });
    expect(moduleSettings(config, 'feed', feedConfig)).toEqual({ pageSize: 50 });
  });

  it('names every bad key of the kernel and of every module at once, each with its module', () => {
    const error = configError(
      { PORT: 'x', MAILBOX_QUOTA_MB: 'lots', FEED_PAGE_SIZE: '9999', NOVA_ENV: 'production' },
      composition,
    );
    expect(error.problems).toEqual([
      'PORT: expected an integer, got "x"',
      'MAILBOX_QUOTA_MB (mailbox): expected an integer, got "lots"',
      expect.stringMatching(/^FEED_PAGE_SIZE \(feed\): .*500/),
    ]);
    const checked = configError({ NOVA_ENV: 'production' }, composition);
    expect(checked.problems).toEqual(['MAILBOX_SECRET (mailbox): required in production']);
  });

  it('neither reads nor requires the keys of a module the target does not run', () => {
    const env = {
      NOVA_ENV: 'production',
      NOVA_TARGET: 'feed',
      NOVA_INTERNAL_TOKEN: 'an-internal-token-of-32-characters!',
      MAILBOX_QUOTA_MB: 'not read',
    } as const;
    const config = loadConfig(env, composition);
    expect(config.modules).toEqual({ feed: { pageSize: 50 } });
    expect(() => moduleSettings(config, 'mailbox', mailConfig)).toThrow(ModuleSettingsMissingError);
    expect(configError({ ...env, NOVA_TARGET: 'all' }, composition).problems.join('\n')).toContain(
      'MAILBOX_QUOTA_MB (mailbox)',
    );
  });

  it('reports an unknown target as a bad NOVA_TARGET', () => {
    expect(configError({ NOVA_TARGET: 'chat' }, composition).problems).toEqual([
      'NOVA_TARGET: unknown target "chat"',
    ]);
  });

  it('derives the per-service keys from the registered module names', () => {
    const keys = describeConfig(composition).map((k) => `${k.key}:${k.owner}`);
    for (const key of ['MAILBOX_DATABASE_URL:kernel', 'NOVA_FEED_URL:kernel', 'FEED_PAGE_SIZE:feed'])
      expect(keys).toContain(key);
    const config = loadConfig(
      {
        DATABASE_URL: 'postgres://u@127.0.0.1:5432/all',
        FEED_DATABASE_URL: 'postgres://u@127.0.0.1:5432/feed',
        NOVA_MAILBOX_URL: 'grpc://mailbox:50051',
        KAFKA_BROKERS: '127.0.0.1:9092',
        NOVA_TARGET: 'feed',
      },
      composition,
    );
    expect(config.database.urls).toEqual({
      mailbox: 'postgres://u@127.0.0.1:5432/all',
      feed: 'postgres://u@127.0.0.1:5432/feed',
    });
    expect(config.serviceUrls).toEqual({ mailbox: 'grpc://mailbox:50051' });
  });

  it('refuses split databases or processes without Kafka', () => {
    const splits: Record<string, string>[] = [
      { FEED_DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/feed' },
      { NOVA_FEED_URL: 'grpc://feed:50051' },
    ];
    for (const env of splits)
      expect(configError(env, composition).problems).toEqual([
        'KAFKA_BROKERS: required when services use separate databases or processes',
      ]);
  });

  it('refuses a key declared twice (a registry mistake)', () => {
    const clash = {
      name: 'clash',
      config: defineModuleConfig({ schema: feedConfig.schema, derive: () => ({}) }),
    };
    expect(() => loadConfig({}, { modules: [feed, clash] })).toThrow(/FEED_PAGE_SIZE .*feed and clash/);
    const kernelKey = defineModuleConfig({
      schema: Type.Object({ PORT: Type.String() }),
      derive: () => ({}),
    });
    expect(() => loadConfig({}, { modules: [{ name: 'x', config: kernelKey }] })).toThrow(/PORT/);
  });
});
