import path from 'node:path';
import { type TObject, type TSchema, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { type Env, EnvSchema, EnvUrl } from './env-schema.js';
import type { ConfigurableModule } from './module-config.js';
import { parseNetworks } from './networks.js';

export type RedisRole = 'security' | 'cache' | 'realtime';

/** The kernel's derived settings: the process, not any service. */
export interface KernelConfig {
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
  /** Bounded wait for the token verifier and the event producer at start (then exit 1). */
  startupTimeoutMs: number;
  /**
   * Remote service URLs (`NOVA_<SERVICE>_URL`): `http://host:port` of the
   * process that serves that service (its HTTP and gRPC port), or
   * `grpc://host:port` of its separate gRPC port. Sync calls go there; the
   * gateway routes the service's public paths to the http:// form.
   */
  serviceUrls: Readonly<Record<string, string>>;
  /**
   * The gRPC server for the sync APIs of this process's services. `sharedPort`:
   * served on the HTTP port itself (every split target); `port`: also on a
   * port of its own (NOVA_GRPC_PORT; 0: any free one), undefined for none.
   */
  grpc: {
    port?: number;
    sharedPort: boolean;
    /** Sent by this process's sync clients and the gateway; accepted too. */
    internalToken?: string;
    /** Every internal token this process accepts: the one above and NOVA_INTERNAL_TOKENS_ACCEPTED (rotation). */
    acceptedInternalTokens: string[];
  };
  /** Per-service PostgreSQL (`<SERVICE>_DATABASE_URL`, else `DATABASE_URL`); none: embedded PGlite. */
  database: {
    urls: Readonly<Record<string, string>>;
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
  /**
   * Set when S3_BUCKET is: media blobs in an S3-compatible bucket (the
   * @nova/s3 adapter). Credentials unset: the AWS SDK's default chain.
   */
  s3?: {
    bucket: string;
    region: string;
    endpoint?: string;
    publicEndpoint?: string;
    credentials?: { accessKeyId: string; secretAccessKey: string };
  };
  /** The realtime socket (GET /api/v1/ws): heartbeats, per-socket limits, token re-checks. */
  realtime: {
    heartbeatMs: number;
    sendBufferBytes: number;
    framesPerSecond: number;
    frameBurst: number;
    maxFrameBytes: number;
    revalidateMs: number;
  };
  /** Set when OTEL_EXPORTER_OTLP_ENDPOINT is: traces are exported over OTLP (ADR 014). */
  tracing?: { endpoint: string; protocol: 'http/protobuf' | 'http/json'; serviceName: string };
  raw: Env;
}

/** Validated, derived configuration. Built once at start by loadConfig. */
export interface Config extends KernelConfig {
  /** Each configured module's derived settings, by module name (read with moduleSettings). */
  modules: Readonly<Record<string, unknown>>;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigComposition {
  /**
   * Every module the binary can run. Their names give the per-service keys
   * (`<SERVICE>_DATABASE_URL`, `NOVA_<SERVICE>_URL`), since any process may
   * need to find any service.
   */
  modules: readonly ConfigurableModule[];
  /**
   * Parts of the binary that are not services (the gateway): they own keys,
   * read when the target resolves to them, but get no per-service keys.
   */
  extras?: readonly ConfigurableModule[];
  /**
   * The modules the configured target runs (default: all of them); only
   * their keys are read and checked. Throwing names NOVA_TARGET as bad.
   */
  resolveTarget?: (target: string) => readonly ConfigurableModule[];
}

/** One environment variable of a composition, for docs and `nova config`. */
export interface ConfigKey {
  key: string;
  /** `kernel` or the module that declares it. */
  owner: string;
  default?: unknown;
  description?: string;
}

/** `auth` → `AUTH`, `live-streams` → `LIVE_STREAMS`: the env spelling of a module name. */
export function envName(module: string): string {
  return module.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

/** The per-service keys the kernel reads for each registered module. */
function serviceKeysSchema(names: readonly string[]): TObject {
  const properties: Record<string, TSchema> = {};
  for (const name of names) {
    properties[`${envName(name)}_DATABASE_URL`] = EnvUrl(`PostgreSQL for the ${name} service`);
    properties[`NOVA_${envName(name)}_URL`] = EnvUrl(
      `http://host:port of another process that serves ${name} (HTTP and its gRPC sync API on one port), or grpc://host:port`,
    );
  }
  return Type.Object(properties);
}

/** Every key a composition reads, with its owner, default and description. */
export function describeConfig(composition: ConfigComposition = { modules: [] }): ConfigKey[] {
  const keys: ConfigKey[] = [];
  const add = (owner: string, schema: TObject) => {
    for (const [key, s] of Object.entries(schema.properties)) {
      const { default: dflt, description } = s as { default?: unknown; description?: string };
      keys.push({ key, owner, default: dflt, description });
    }
  };
  add('kernel', EnvSchema);
  add('kernel', serviceKeysSchema(composition.modules.map((m) => m.name)));
  for (const module of [...composition.modules, ...(composition.extras ?? [])])
    if (module.config) add(module.name, module.config.schema);
  return keys;
}

/**
 * Reads one schema's keys from the environment: integers parsed from their
 * decimal strings, defaults applied, every violation reported as
 * `KEY: message` (with ` (module)` after the key when a module owns it).
 */
function readKeys(
  schema: TObject,
  source: NodeJS.ProcessEnv,
  owner: string | undefined,
  problems: string[],
): { values: Record<string, unknown>; ok: boolean } {
  const before = problems.length;
  const label = (key: string) => (owner ? `${key} (${owner})` : key);
  const input: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(schema.properties)) {
    const value = source[key];
    if (value === undefined || value === '') continue;
    if ((s as { type?: string }).type === 'integer') {
      if (!/^-?\d+$/.test(value.trim())) {
        problems.push(`${label(key)}: expected an integer, got "${value}"`);
        continue;
      }
      input[key] = Number(value);
    } else input[key] = value;
  }
  const values = Value.Default(schema, input) as Record<string, unknown>;
  for (const error of Value.Errors(schema, values)) {
    problems.push(`${label(error.path.slice(1)) || '(root)'}: ${error.message}`);
  }
  return { values, ok: problems.length === before };
}

/**
 * Reads the environment, validates every key of the kernel and of the
 * target's modules at once, derives the config. A module's keys are checked
 * only when the target runs it: a process without auth needs none of auth's
 * settings. Throws ConfigError naming every bad key (and its module).
 */
export function loadConfig(
  source: NodeJS.ProcessEnv = process.env,
  composition: ConfigComposition = { modules: [] },
): Config {
  const problems: string[] = [];
  const registered = composition.modules.map((m) => m.name);
  const declaredBy = new Map<string, string>(Object.keys(EnvSchema.properties).map((k) => [k, 'kernel']));
  const serviceKeys = serviceKeysSchema(registered);
  for (const key of Object.keys(serviceKeys.properties)) declaredBy.set(key, 'kernel');
  for (const module of [...composition.modules, ...(composition.extras ?? [])]) {
    for (const key of Object.keys(module.config?.schema.properties ?? {})) {
      const owner = declaredBy.get(key);
      // Two owners of one key would read it differently: a registry mistake, refused outright.
      if (owner) throw new Error(`config key ${key} is declared by both ${owner} and ${module.name}`);
      declaredBy.set(key, module.name);
    }
  }

  const kernelKeys = readKeys(EnvSchema, source, undefined, problems);
  const env = kernelKeys.values as Env;
  const urls = readKeys(serviceKeys, source, undefined, problems).values as Record<
    string,
    string | undefined
  >;
  let running: readonly ConfigurableModule[] = composition.modules;
  if (composition.resolveTarget && kernelKeys.ok) {
    try {
      running = composition.resolveTarget(env.NOVA_TARGET);
    } catch (error) {
      problems.push(`NOVA_TARGET: ${(error as Error).message}`);
      running = [];
    }
  }
  const moduleEnvs = running.map((module) => ({
    module,
    read: module.config ? readKeys(module.config.schema, source, module.name, problems) : undefined,
  }));

  const kernel = deriveKernel(env, registered, urls);
  // A process that runs no service (the gateway) needs no event log to meet others.
  const runsServices = running.some((module) => composition.modules.includes(module));
  problems.push(...crossChecks(env, registered, urls, runsServices));
  const modules: Record<string, unknown> = {};
  for (const { module, read } of moduleEnvs) {
    // A module whose own keys are malformed is not derived: its checks would only repeat them.
    if (!module.config || !read?.ok) continue;
    modules[module.name] = module.config.derive(read.values, {
      kernel,
      problem: (key, message) => problems.push(`${key} (${module.name}): ${message}`),
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...kernel, modules };
}

const SERVICE_URL = /^(http|grpc):\/\/[^/:]+:\d+\/?$/;

function crossChecks(
  env: Env,
  services: readonly string[],
  urls: Record<string, string | undefined>,
  runsServices: boolean,
): string[] {
  const problems: string[] = [];
  const split =
    runsServices &&
    services.some(
      (s) => urls[`${envName(s)}_DATABASE_URL`] !== undefined || urls[`NOVA_${envName(s)}_URL`] !== undefined,
    );
  if (!env.KAFKA_BROKERS && split) {
    // The embedded event log is the outbox tables of one database: services
    // on separate databases or processes can only meet through Kafka.
    problems.push('KAFKA_BROKERS: required when services use separate databases or processes');
  }
  for (const s of services) {
    const key = `NOVA_${envName(s)}_URL`;
    const url = urls[key];
    if (url && !SERVICE_URL.test(url)) {
      problems.push(`${key}: must be http://host:port (the port of its process) or grpc://host:port`);
    }
  }
  const remote = services.some((s) => urls[`NOVA_${envName(s)}_URL`] !== undefined);
  if (env.NOVA_ENV === 'production' && (env.NOVA_TARGET !== 'all' || remote) && !env.NOVA_INTERNAL_TOKEN) {
    problems.push('NOVA_INTERNAL_TOKEN: required in production when services run in separate processes');
  }
  if (
    !env.S3_BUCKET &&
    (env.S3_ENDPOINT || env.S3_PUBLIC_ENDPOINT || env.S3_ACCESS_KEY_ID || env.S3_SECRET_ACCESS_KEY)
  ) {
    problems.push('S3_BUCKET: required when any other S3_* key is set');
  }
  if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
    problems.push(
      'S3_SECRET_ACCESS_KEY: S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together or not at all',
    );
  }
  for (const key of ['NOVA_TRUSTED_PROXIES', 'NOVA_METRICS_ALLOW'] as const) {
    for (const problem of parseNetworks(env[key]).problems) problems.push(`${key}: ${problem}`);
  }
  for (const problem of parseOrigins(env.NOVA_CORS_ORIGINS).problems)
    problems.push(`NOVA_CORS_ORIGINS: ${problem}`);
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

function deriveKernel(
  env: Env,
  services: readonly string[],
  urls: Record<string, string | undefined>,
): KernelConfig {
  const serviceUrls: Record<string, string> = {};
  const dbUrls: Record<string, string> = {};
  for (const s of services) {
    const url = urls[`NOVA_${envName(s)}_URL`];
    if (url) serviceUrls[s] = url;
    const dbUrl = urls[`${envName(s)}_DATABASE_URL`] ?? env.DATABASE_URL;
    if (dbUrl) dbUrls[s] = dbUrl;
  }
  const redisUrls: KernelConfig['redis']['urls'] = {};
  for (const role of ['security', 'cache', 'realtime'] as const) {
    const url = (env[`REDIS_${role.toUpperCase()}_URL` as keyof Env] as string | undefined) ?? env.REDIS_URL;
    if (url) redisUrls[role] = url;
  }
  const port = typeof env.PORT === 'number' ? env.PORT : 8080;
  return {
    env: env.NOVA_ENV,
    http: {
      port: env.PORT,
      host: env.HOST,
      bodyLimit: env.NOVA_BODY_LIMIT_BYTES,
      publicUrl: (env.NOVA_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
      corsOrigins: parseOrigins(String(env.NOVA_CORS_ORIGINS)).origins,
      trustedProxies: parseNetworks(String(env.NOVA_TRUSTED_PROXIES)).networks,
      metrics: {
        allow: parseNetworks(String(env.NOVA_METRICS_ALLOW)).networks,
        token: env.NOVA_METRICS_TOKEN,
      },
    },
    dataDir: path.resolve(String(env.NOVA_DATA_DIR)),
    target: env.NOVA_TARGET,
    logLevel: env.LOG_LEVEL,
    shutdownTimeoutMs: env.NOVA_SHUTDOWN_TIMEOUT_MS,
    startupTimeoutMs: env.NOVA_STARTUP_TIMEOUT_MS,
    serviceUrls,
    grpc: {
      port: env.NOVA_GRPC_PORT,
      sharedPort: env.NOVA_TARGET !== 'all',
      internalToken: env.NOVA_INTERNAL_TOKEN,
      acceptedInternalTokens: env.NOVA_INTERNAL_TOKEN
        ? [env.NOVA_INTERNAL_TOKEN, ...env.NOVA_INTERNAL_TOKENS_ACCEPTED.split(',').filter(Boolean)]
        : [],
    },
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
          brokers: String(env.KAFKA_BROKERS)
            .split(',')
            .map((b) => b.trim())
            .filter(Boolean),
          clientId: env.KAFKA_CLIENT_ID,
          outboxRelay: env.NOVA_OUTBOX_RELAY,
        }
      : undefined,
    s3: env.S3_BUCKET
      ? {
          bucket: env.S3_BUCKET,
          region: env.S3_REGION,
          endpoint: env.S3_ENDPOINT,
          publicEndpoint: env.S3_PUBLIC_ENDPOINT,
          credentials:
            env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY
              ? { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY }
              : undefined,
        }
      : undefined,
    realtime: {
      heartbeatMs: env.NOVA_WS_HEARTBEAT_MS,
      sendBufferBytes: env.NOVA_WS_SEND_BUFFER_BYTES,
      framesPerSecond: env.NOVA_WS_FRAMES_PER_SECOND,
      frameBurst: env.NOVA_WS_FRAME_BURST,
      maxFrameBytes: env.NOVA_WS_MAX_FRAME_BYTES,
      revalidateMs: env.NOVA_WS_REVALIDATE_MS,
    },
    tracing: env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? {
          endpoint: String(env.OTEL_EXPORTER_OTLP_ENDPOINT),
          protocol: env.OTEL_EXPORTER_OTLP_PROTOCOL,
          serviceName: env.OTEL_SERVICE_NAME,
        }
      : undefined,
    raw: env,
  };
}
