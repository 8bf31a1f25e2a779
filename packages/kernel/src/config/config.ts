import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { type Env, EnvSchema } from './env-schema.js';
import { parseNetworks } from './networks.js';

export const SERVICE_NAMES = ['auth', 'social'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
export type RedisRole = 'security' | 'cache' | 'realtime';

/** Validated, derived configuration. Built once at start by loadConfig. */
export interface Config {
  env: Env['NOVA_ENV'];
  http: {
    port: number;
    host: string;
    bodyLimit: number;
    publicUrl: string;
    /** Exact origins allowed cross-origin (CORS); empty: none. */
    corsOrigins: string[];
    /** Proxies (CIDRs) whose X-Forwarded-For sets the client IP; empty: trust none. */
    trustedProxies: string[];
    /** Who may scrape /metrics: these networks, or anyone with the token. */
    metrics: { allow: string[]; token?: string };
  };
  dataDir: string;
  target: string;
  logLevel: Env['LOG_LEVEL'];
  shutdownTimeoutMs: number;
  /** Remote service URLs; a service without one runs in this process. */
  serviceUrls: Partial<Record<ServiceName, string>>;
  database: {
    urls: Partial<Record<ServiceName, string>>;
    defaultUrl?: string;
    poolSize: number;
    connectTimeoutMs: number;
    /** 0: no statement timeout. */
    statementTimeoutMs: number;
  };
  redis: {
    urls: Partial<Record<RedisRole, string>>;
    keyPrefix: string;
    connectTimeoutMs: number;
    commandTimeoutMs: number;
  };
  /** Embedded log: how long consumed outbox rows are kept. */
  events: { retentionMs: number };
  /**
   * Set when KAFKA_BROKERS is. `outboxRelay: 'external'` means a CDC tool
   * (Debezium) publishes the outbox and Nova only prunes it after retention.
   */
  kafka?: { brokers: string[]; clientId: string; outboxRelay: 'builtin' | 'external' };
  mail: { smtpUrl?: string; from: string };
  auth: {
    signingKeys?: string;
    encryptionKey?: string;
    accessTokenTtlSeconds: number;
    refreshTokenTtlSeconds: number;
    argon2: { memoryCost: number; timeCost: number };
    login: { maxFailures: number; maxFailuresPerIp: number; windowSeconds: number };
  };
  raw: Env;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const NUMERIC_KEYS = Object.entries(EnvSchema.properties)
  .filter(([, s]) => (s as { type?: string }).type === 'integer')
  .map(([k]) => k);

/** Reads the environment, validates every key at once, derives the config. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(EnvSchema.properties)) {
    const value = source[key];
    if (value === undefined || value === '') continue;
    if (NUMERIC_KEYS.includes(key)) {
      if (!/^-?\d+$/.test(value.trim())) {
        problems.push(`${key}: expected an integer, got "${value}"`);
        continue;
      }
      input[key] = Number(value);
    } else input[key] = value;
  }
  const withDefaults = Value.Default(EnvSchema, input) as Record<string, unknown>;
  for (const error of Value.Errors(EnvSchema, withDefaults)) {
    problems.push(`${error.path.slice(1) || '(root)'}: ${error.message}`);
  }
  const env = withDefaults as Env;
  problems.push(...crossChecks(env));
  if (problems.length > 0) throw new ConfigError(problems);
  return derive(env);
}

function crossChecks(env: Env): string[] {
  const problems: string[] = [];
  const perService = SERVICE_NAMES.filter((s) => env[`${s.toUpperCase()}_DATABASE_URL` as keyof Env]);
  if (!env.KAFKA_BROKERS && (perService.length > 0 || SERVICE_NAMES.some((s) => serviceUrl(env, s)))) {
    // The embedded event log is the outbox tables of one database: services
    // on separate databases or processes can only meet through Kafka.
    problems.push('KAFKA_BROKERS: required when services use separate databases or processes');
  }
  if (env.NOVA_ENV === 'production') {
    if (!env.AUTH_SIGNING_KEYS) problems.push('AUTH_SIGNING_KEYS: required in production');
    if (!env.AUTH_ENCRYPTION_KEY) problems.push('AUTH_ENCRYPTION_KEY: required in production');
  }
  for (const key of ['NOVA_TRUSTED_PROXIES', 'NOVA_METRICS_ALLOW'] as const) {
    for (const problem of parseNetworks(env[key]).problems) problems.push(`${key}: ${problem}`);
  }
  for (const problem of parseOrigins(env.NOVA_CORS_ORIGINS).problems)
    problems.push(`NOVA_CORS_ORIGINS: ${problem}`);
  if (env.AUTH_ENCRYPTION_KEY && Buffer.from(env.AUTH_ENCRYPTION_KEY, 'base64').length !== 32) {
    problems.push('AUTH_ENCRYPTION_KEY: must be 32 bytes, base64-encoded');
  }
  if (env.AUTH_SIGNING_KEYS) {
    try {
      const keys: unknown = JSON.parse(env.AUTH_SIGNING_KEYS);
      if (!Array.isArray(keys) || keys.length === 0) throw new Error('not a non-empty array');
    } catch {
      problems.push('AUTH_SIGNING_KEYS: must be a JSON array of Ed25519 private JWKs');
    }
  }
  return problems;
}

/**
 * Origins as browsers send them: scheme, host and port, nothing else. A
 * wildcard is refused: the allow-list is the point.
 */
function parseOrigins(list: string): { origins: string[]; problems: string[] } {
  const origins: string[] = [];
  const problems: string[] = [];
  for (const raw of list.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    let origin: string | undefined;
    try {
      const url = new URL(entry);
      if ((url.protocol === 'http:' || url.protocol === 'https:') && url.origin === entry.replace(/\/$/, ''))
        origin = url.origin;
    } catch {
      // reported below
    }
    if (origin === undefined) problems.push(`"${entry}" is not an origin like https://app.example.com`);
    else origins.push(origin);
  }
  return { origins, problems };
}

function serviceUrl(env: Env, service: ServiceName): string | undefined {
  return env[`NOVA_${service.toUpperCase()}_URL` as keyof Env] as string | undefined;
}

function derive(env: Env): Config {
  const serviceUrls: Config['serviceUrls'] = {};
  const dbUrls: Config['database']['urls'] = {};
  for (const s of SERVICE_NAMES) {
    const url = serviceUrl(env, s);
    if (url) serviceUrls[s] = url;
    const dbUrl =
      (env[`${s.toUpperCase()}_DATABASE_URL` as keyof Env] as string | undefined) ?? env.DATABASE_URL;
    if (dbUrl) dbUrls[s] = dbUrl;
  }
  const redisUrls: Config['redis']['urls'] = {};
  for (const role of ['security', 'cache', 'realtime'] as const) {
    const url = (env[`REDIS_${role.toUpperCase()}_URL` as keyof Env] as string | undefined) ?? env.REDIS_URL;
    if (url) redisUrls[role] = url;
  }
  return {
    env: env.NOVA_ENV,
    http: {
      port: env.PORT,
      host: env.HOST,
      bodyLimit: env.NOVA_BODY_LIMIT_BYTES,
      publicUrl: (env.NOVA_PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
      corsOrigins: parseOrigins(env.NOVA_CORS_ORIGINS).origins,
      trustedProxies: parseNetworks(env.NOVA_TRUSTED_PROXIES).networks,
      metrics: { allow: parseNetworks(env.NOVA_METRICS_ALLOW).networks, token: env.NOVA_METRICS_TOKEN },
    },
    dataDir: path.resolve(env.NOVA_DATA_DIR),
    target: env.NOVA_TARGET,
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: env.NOVA_SHUTDOWN_TIMEOUT_MS,
    serviceUrls,
    database: {
      urls: dbUrls,
      defaultUrl: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    redis: {
      urls: redisUrls,
      keyPrefix: env.REDIS_KEY_PREFIX,
      connectTimeoutMs: env.REDIS_CONNECT_TIMEOUT_MS,
      commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
    },
    events: { retentionMs: env.NOVA_EVENT_RETENTION_HOURS * 3600_000 },
    kafka: env.KAFKA_BROKERS
      ? {
          brokers: env.KAFKA_BROKERS.split(',')
            .map((b) => b.trim())
            .filter(Boolean),
          clientId: env.KAFKA_CLIENT_ID,
          outboxRelay: env.NOVA_OUTBOX_RELAY,
        }
      : undefined,
    mail: { smtpUrl: env.SMTP_URL, from: env.MAIL_FROM },
    auth: {
      signingKeys: env.AUTH_SIGNING_KEYS,
      encryptionKey: env.AUTH_ENCRYPTION_KEY,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
      argon2: { memoryCost: env.ARGON2_MEMORY_KIB, timeCost: env.ARGON2_TIME_COST },
      login: {
        maxFailures: env.LOGIN_MAX_FAILURES,
        maxFailuresPerIp: env.LOGIN_MAX_FAILURES_PER_IP,
        windowSeconds: env.LOGIN_FAILURE_WINDOW_SECONDS,
      },
    },
    raw: env,
  };
}
