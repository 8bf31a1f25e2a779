/**
 * What differs between Nova's processes in a cluster. Everything the
 * Kubernetes base says per service is derived from this table and from the
 * module registry (names, dependencies), so a new module gets its manifests
 * by running `npm run deploy:generate`.
 */

/** Where every process listens: public HTTP and the sync API share it (the gateway's upstreams). */
export const NOVA_PORT = 8080;

/** `NOVA_<SERVICE>_URL` of a service inside the cluster (and the compose network). */
export const serviceUrl = (service: string): string => `http://${service}:${NOVA_PORT}`;

/** Nova's own shutdown deadline (NOVA_SHUTDOWN_TIMEOUT_MS) as the config map sets it. */
export const SHUTDOWN_TIMEOUT_MS = 30_000;
/** How long a terminating pod keeps serving while endpoints drop it (preStop). */
export const PRE_STOP_SECONDS = 5;
/** Grace after SIGTERM: the drain above, Nova's deadline, and room for the exit itself. */
export const TERMINATION_GRACE_SECONDS = PRE_STOP_SECONDS + SHUTDOWN_TIMEOUT_MS / 1000 + 10;

export interface Resources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface ProcessShape {
  replicas: number;
  resources: Resources;
  /** Scaled on CPU by a HorizontalPodAutoscaler (stateless request/consumer processes). */
  autoscale?: { min: number; max: number };
  /** Plain (non-secret) variables of this process beyond the shared config map. */
  env?: Record<string, string>;
  /** Shared secrets this process reads besides its own (`nova-<service>`). */
  sharedSecrets?: readonly string[];
  /** Extra container ports (name → port) and a public TCP Service for them. */
  tcpIngest?: { name: string; port: number };
}

const standard: Resources = {
  requests: { cpu: '250m', memory: '384Mi' },
  limits: { cpu: '2', memory: '1Gi' },
};
// sharp and ffmpeg hold whole frames; one transcode takes a core.
const media: Resources = {
  requests: { cpu: '500m', memory: '768Mi' },
  limits: { cpu: '2', memory: '2Gi' },
};

// Only for the processes with a bucket: Nova refuses S3_* keys without S3_BUCKET.
const S3_LOCATION = { S3_ENDPOINT: 'http://s3:9000', S3_REGION: 'us-east-1' };

export const SERVICE_SHAPES: Record<string, ProcessShape> = {
  auth: { replicas: 2, resources: standard, autoscale: { min: 2, max: 10 } },
  social: { replicas: 2, resources: standard, autoscale: { min: 2, max: 10 } },
  content: {
    replicas: 2,
    resources: media,
    autoscale: { min: 2, max: 10 },
    env: { S3_BUCKET: 'nova-content', ...S3_LOCATION },
    sharedSecrets: ['nova-s3'],
  },
  messaging: { replicas: 2, resources: standard, autoscale: { min: 2, max: 10 } },
  feed: { replicas: 2, resources: standard, autoscale: { min: 2, max: 10 } },
  notifications: { replicas: 2, resources: standard, autoscale: { min: 2, max: 6 } },
  analytics: { replicas: 2, resources: standard, autoscale: { min: 2, max: 6 } },
  // Not autoscaled: scaling in would cut the RTMP publishes a pod holds.
  live: {
    replicas: 2,
    resources: media,
    env: { S3_BUCKET: 'nova-live', ...S3_LOCATION, RTMP_PORT: '1935' },
    sharedSecrets: ['nova-s3'],
    tcpIngest: { name: 'rtmp', port: 1935 },
  },
};

export const GATEWAY_SHAPE: ProcessShape = {
  replicas: 2,
  resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '2', memory: '512Mi' } },
  autoscale: { min: 2, max: 10 },
  // Browsers' origins are checked at the edge only: the services are never called cross-origin.
  env: { NOVA_CORS_ORIGINS: '' },
};

/** The shared, non-secret configuration (ConfigMap `nova-config`; the compose file's `x-nova` env). */
export const SHARED_CONFIG: Record<string, string> = {
  NOVA_ENV: 'production',
  NOVA_PUBLIC_URL: 'https://nova.example.com',
  LOG_LEVEL: 'info',
  NOVA_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
  // The pod network: the gateway forwards the client's address; Prometheus scrapes from inside.
  NOVA_TRUSTED_PROXIES: '10.0.0.0/8',
  NOVA_METRICS_ALLOW: '10.0.0.0/8,127.0.0.1/8',
  REDIS_URL: 'redis://redis:6379',
  KAFKA_BROKERS: 'kafka:9092',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
};

/** Secret keys of each service's own Secret beyond `<SERVICE>_DATABASE_URL`, with placeholders. */
export const SERVICE_SECRETS: Record<string, Record<string, string>> = {
  // Placeholders Nova refuses in production (not JWKs, not 32 bytes), so a forgotten one fails closed.
  auth: {
    AUTH_SIGNING_KEYS: 'REPLACE-ME',
    AUTH_ENCRYPTION_KEY: 'REPLACE-ME',
    SMTP_URL: 'smtp://REPLACE-ME:587',
  },
  notifications: { WEB_PUSH_VAPID_PUBLIC_KEY: 'REPLACE-ME', WEB_PUSH_VAPID_PRIVATE_KEY: 'REPLACE-ME' },
  analytics: { CLICKHOUSE_URL: 'http://nova:REPLACE-ME@clickhouse:8123' },
};

export const SHARED_SECRETS: Record<string, Record<string, string>> = {
  'nova-internal': { NOVA_INTERNAL_TOKEN: 'REPLACE-ME' },
  'nova-s3': { S3_ACCESS_KEY_ID: 'nova', S3_SECRET_ACCESS_KEY: 'REPLACE-ME' },
};

/** `<SERVICE>_DATABASE_URL` inside the cluster: its own role and database. */
export const databaseUrl = (service: string, password = 'REPLACE-ME'): string =>
  `postgres://nova_${service}:${password}@postgres:5432/nova_${service}`;
