import { type Static, type TInteger, type TOptional, type TString, Type } from '@sinclair/typebox';
import '../formats.js';

/** An optional URL-valued key (unset usually selects an embedded adapter). */
export const EnvUrl = (description: string): TOptional<TString> =>
  Type.Optional(Type.String({ minLength: 1, format: 'uri', description }));

/** An integer key with bounds and a default (read from its decimal string). */
export const EnvInt = (min: number, max: number, dflt: number, description: string): TInteger =>
  Type.Integer({ minimum: min, maximum: max, default: dflt, description });

/**
 * The kernel's own environment variables: settings of the process, not of
 * any service. Each service declares its keys in its own `src/config.ts`;
 * loadConfig composes them with these and with the per-service keys derived
 * from the registered module names (`<SERVICE>_DATABASE_URL`,
 * `NOVA_<SERVICE>_URL`). README's configuration table lists all of them
 * (apps/nova/test/config-table.test.ts keeps it complete). Nothing else reads
 * process.env. Unset optional URLs select the embedded (all-in-one) adapters.
 */
export const EnvSchema = Type.Object({
  NOVA_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], {
    default: 'development',
    description: 'production: modules refuse to start on development fallbacks (e.g. generated keys)',
  }),
  PORT: EnvInt(0, 65535, 8080, 'HTTP/WebSocket listen port'),
  HOST: Type.String({ default: '0.0.0.0', minLength: 1, description: 'HTTP listen address' }),
  NOVA_DATA_DIR: Type.String({ default: './data', minLength: 1, description: 'all embedded state' }),
  NOVA_TARGET: Type.String({ default: 'all', minLength: 1, description: 'services this process runs' }),
  NOVA_PUBLIC_URL: Type.Optional(
    Type.String({
      format: 'uri',
      description: 'public base URL, e.g. for links in mail (default http://localhost:PORT)',
    }),
  ),
  NOVA_GRPC_PORT: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 65535,
      description:
        "a separate port where this process also serves its services' sync APIs over gRPC (unset: only on PORT, for a target other than all)",
    }),
  ),
  NOVA_INTERNAL_TOKEN: Type.Optional(
    Type.String({
      minLength: 32,
      description: 'shared secret callers present to the gRPC sync APIs; required in production when split',
    }),
  ),
  NOVA_INTERNAL_TOKENS_ACCEPTED: Type.String({
    default: '',
    pattern: '^([^,]{32,}(,[^,]{32,})*)?$',
    description:
      'comma-separated further internal tokens this process accepts (never sends): a rotation rolls out the new token here, then swaps it with NOVA_INTERNAL_TOKEN',
  }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info', description: 'JSON log lines on stdout from this level up' },
  ),
  NOVA_SHUTDOWN_TIMEOUT_MS: EnvInt(1000, 600_000, 30_000, 'graceful shutdown deadline'),
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
  NOVA_BODY_LIMIT_BYTES: EnvInt(1024, 64 * 1024 * 1024, 1024 * 1024, 'largest accepted JSON body'),
  NOVA_STARTUP_TIMEOUT_MS: EnvInt(
    0,
    600_000,
    30_000,
    'how long start-up retries a required remote dependency (token verifier, Kafka) before exiting with an error',
  ),

  DATABASE_URL: EnvUrl('PostgreSQL for every service (unset: embedded PGlite)'),
  DATABASE_POOL_SIZE: EnvInt(1, 500, 10, 'connections per PostgreSQL pool'),
  DATABASE_CONNECT_TIMEOUT_MS: EnvInt(
    100,
    120_000,
    5000,
    'longest wait for a PostgreSQL connection (connect or pool acquire) before 503',
  ),
  DATABASE_STATEMENT_TIMEOUT_MS: EnvInt(
    0,
    3_600_000,
    30_000,
    'PostgreSQL statement_timeout, also the client-side read timeout (+2 s) for a silent server; 0 = none',
  ),

  REDIS_URL: EnvUrl('Redis for every role (unset: in-process)'),
  REDIS_SECURITY_URL: EnvUrl('Redis for revocations, 2FA challenges, rate limits'),
  REDIS_CACHE_URL: EnvUrl('Redis for caches'),
  REDIS_REALTIME_URL: EnvUrl('Redis for pub/sub and presence'),
  REDIS_KEY_PREFIX: Type.String({ default: 'nova:', description: 'prefix of every Redis key' }),
  REDIS_CONNECT_TIMEOUT_MS: EnvInt(100, 120_000, 5000, 'longest wait for a Redis connection attempt'),
  REDIS_COMMAND_TIMEOUT_MS: EnvInt(
    50,
    60_000,
    2000,
    'a Redis command (queued while reconnecting included) fails with 503 after this',
  ),

  KAFKA_BROKERS: Type.Optional(
    Type.String({ minLength: 1, description: 'comma-separated bootstrap servers' }),
  ),
  KAFKA_CLIENT_ID: Type.String({ default: 'nova', minLength: 1, description: 'Kafka client id' }),
  NOVA_EVENT_RETENTION_HOURS: EnvInt(
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

  S3_ENDPOINT: EnvUrl('S3-compatible endpoint, e.g. http://127.0.0.1:9000 (unset: AWS by region)'),
  S3_PUBLIC_ENDPOINT: EnvUrl(
    'where clients reach the S3 server, when not at S3_ENDPOINT (e.g. S3 inside the cluster): presigned media URLs name it',
  ),
  S3_BUCKET: Type.Optional(
    Type.String({
      minLength: 3,
      maxLength: 63,
      pattern: '^[a-z0-9][a-z0-9.-]*[a-z0-9]$',
      description: 'bucket for media blobs; set: S3 blob store (unset: files under NOVA_DATA_DIR/media)',
    }),
  ),
  S3_REGION: Type.String({ default: 'us-east-1', minLength: 1, description: 'S3 region' }),
  S3_ACCESS_KEY_ID: Type.Optional(Type.String({ minLength: 1, description: 'S3 access key id' })),
  S3_SECRET_ACCESS_KEY: Type.Optional(Type.String({ minLength: 1, description: 'S3 secret access key' })),

  NOVA_WS_HEARTBEAT_MS: EnvInt(
    50,
    600_000,
    25_000,
    'realtime socket: ping period; a peer that has not answered the previous ping is closed',
  ),
  NOVA_WS_SEND_BUFFER_BYTES: EnvInt(
    1024,
    256 * 1024 * 1024,
    1024 * 1024,
    'realtime socket: bytes queued for one slow client before it is closed with 4008',
  ),
  NOVA_WS_FRAMES_PER_SECOND: EnvInt(1, 100_000, 20, 'realtime socket: client frames accepted per second'),
  NOVA_WS_FRAME_BURST: EnvInt(1, 100_000, 40, 'realtime socket: client frames accepted in a burst'),
  NOVA_WS_MAX_FRAME_BYTES: EnvInt(64, 16 * 1024 * 1024, 64 * 1024, 'realtime socket: largest client frame'),
  NOVA_WS_REVALIDATE_MS: EnvInt(
    50,
    3_600_000,
    5000,
    'realtime socket: how often open sockets re-check their token (logout/revocation closes them)',
  ),

  OTEL_EXPORTER_OTLP_ENDPOINT: EnvUrl(
    'OpenTelemetry: export traces over OTLP/HTTP to <endpoint>/v1/traces (unset: no tracing)',
  ),
  OTEL_EXPORTER_OTLP_PROTOCOL: Type.Union([Type.Literal('http/protobuf'), Type.Literal('http/json')], {
    default: 'http/protobuf',
    description: 'OTLP encoding of exported traces',
  }),
  OTEL_SERVICE_NAME: Type.String({
    default: 'nova',
    minLength: 1,
    description: 'service.name of exported traces',
  }),
});

export type Env = Static<typeof EnvSchema>;
