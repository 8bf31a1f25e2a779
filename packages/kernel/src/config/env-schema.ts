import { type Static, Type } from '@sinclair/typebox';
import '../formats.js';

/**
 * Every environment variable Nova reads, with its default. README's
 * configuration table mirrors this file; nothing else reads process.env.
 * Unset optional URLs select the embedded (all-in-one) adapters.
 */
const Url = (description: string) => Type.Optional(Type.String({ minLength: 1, format: 'uri', description }));
const Int = (min: number, max: number, dflt: number, description: string) =>
  Type.Integer({ minimum: min, maximum: max, default: dflt, description });

export const EnvSchema = Type.Object({
  NOVA_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
    description: 'production refuses to start without configured signing/encryption keys',
  }),
  PORT: Int(0, 65535, 8080, 'HTTP/WebSocket listen port'),
  HOST: Type.String({ default: '0.0.0.0', minLength: 1, description: 'HTTP listen address' }),
  NOVA_DATA_DIR: Type.String({ default: './data', minLength: 1, description: 'all embedded state' }),
  NOVA_TARGET: Type.String({ default: 'all', minLength: 1, description: 'services this process runs' }),
  NOVA_PUBLIC_URL: Type.Optional(
    Type.String({ format: 'uri', description: 'base for links in mail (default http://localhost:PORT)' }),
  ),
  NOVA_AUTH_URL: Url('where another process serves the auth service'),
  NOVA_SOCIAL_URL: Url('where another process serves the social service'),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  NOVA_SHUTDOWN_TIMEOUT_MS: Int(1000, 600_000, 30_000, 'graceful shutdown deadline'),
  NOVA_CORS_ORIGINS: Type.String({
    default: '',
    description:
      'comma-separated origins (https://app.example.com) allowed cross-origin requests; empty = none',
  }),
  NOVA_TRUSTED_PROXIES: Type.String({
    default: '',
    description: 'comma-separated proxy addresses/CIDRs whose X-Forwarded-For is believed; empty = none',
  }),
  NOVA_METRICS_ALLOW: Type.String({
    default: '127.0.0.1/8,::1/128',
    description: 'comma-separated addresses/CIDRs that may read /metrics without a token',
  }),
  NOVA_METRICS_TOKEN: Type.Optional(
    Type.String({ minLength: 16, description: 'bearer token that opens /metrics from any address' }),
  ),
  NOVA_BODY_LIMIT_BYTES: Int(1024, 64 * 1024 * 1024, 1024 * 1024, 'largest accepted JSON body'),

  DATABASE_URL: Url('PostgreSQL for every service (unset: embedded PGlite)'),
  AUTH_DATABASE_URL: Url('PostgreSQL for the auth service'),
  SOCIAL_DATABASE_URL: Url('PostgreSQL for the social service'),
  DATABASE_POOL_SIZE: Int(1, 500, 10, 'connections per PostgreSQL pool'),
  DATABASE_CONNECT_TIMEOUT_MS: Int(
    100,
    120_000,
    5000,
    'longest wait for a PostgreSQL connection (connect or pool acquire) before 503',
  ),
  DATABASE_STATEMENT_TIMEOUT_MS: Int(
    0,
    3_600_000,
    30_000,
    'PostgreSQL statement_timeout, also the client-side read timeout (+2 s) for a silent server; 0 = none',
  ),

  REDIS_URL: Url('Redis for every role (unset: in-process)'),
  REDIS_SECURITY_URL: Url('Redis for revocations, 2FA challenges, rate limits'),
  REDIS_CACHE_URL: Url('Redis for caches'),
  REDIS_REALTIME_URL: Url('Redis for pub/sub and presence'),
  REDIS_KEY_PREFIX: Type.String({ default: 'nova:', description: 'prefix of every Redis key' }),
  REDIS_CONNECT_TIMEOUT_MS: Int(100, 120_000, 5000, 'longest wait for a Redis connection attempt'),
  REDIS_COMMAND_TIMEOUT_MS: Int(
    50,
    60_000,
    2000,
    'a Redis command (queued while reconnecting included) fails with 503 after this',
  ),

  KAFKA_BROKERS: Type.Optional(
    Type.String({ minLength: 1, description: 'comma-separated bootstrap servers' }),
  ),
  KAFKA_CLIENT_ID: Type.String({ default: 'nova', minLength: 1 }),
  NOVA_EVENT_RETENTION_HOURS: Int(
    1,
    87_600,
    168,
    'embedded log: outbox rows every consumer group has passed are pruned after this',
  ),
  NOVA_OUTBOX_RELAY: Type.Union([Type.Literal('builtin'), Type.Literal('external')], {
    default: 'builtin',
    description:
      'with Kafka: builtin publishes the outbox; external leaves it to Debezium (rows pruned after retention)',
  }),

  SMTP_URL: Url('outgoing mail (unset: .eml files under NOVA_DATA_DIR/mail)'),
  MAIL_FROM: Type.String({ default: 'Nova <no-reply@nova.local>', minLength: 3 }),

  AUTH_SIGNING_KEYS: Type.Optional(
    Type.String({
      minLength: 2,
      description: 'JSON array of Ed25519 private JWKs (first signs); required in production',
    }),
  ),
  AUTH_ENCRYPTION_KEY: Type.Optional(
    Type.String({
      minLength: 44,
      description: 'base64 32-byte key for secrets at rest; required in production',
    }),
  ),
  ACCESS_TOKEN_TTL_SECONDS: Int(60, 86_400, 900, 'access token lifetime'),
  REFRESH_TOKEN_TTL_SECONDS: Int(3600, 31_536_000, 2_592_000, 'refresh token family lifetime'),
  ARGON2_MEMORY_KIB: Int(8192, 1_048_576, 19_456, 'argon2id memory cost'),
  ARGON2_TIME_COST: Int(1, 10, 2, 'argon2id iterations'),
  LOGIN_MAX_FAILURES: Int(1, 1000, 5, 'failed logins per account per window before 429'),
  LOGIN_MAX_FAILURES_PER_IP: Int(1, 100_000, 50, 'failed logins per IP per window before 429'),
  LOGIN_FAILURE_WINDOW_SECONDS: Int(1, 86_400, 900, 'window of the login throttles'),
});

export type Env = Static<typeof EnvSchema>;
