import {
  type ChannelCredentials,
  Client,
  status as GrpcStatus,
  credentials as grpcCredentials,
  Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { context as otelContext, propagation } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { InternalError, type NovaError } from '../../errors/errors.js';
import type { Logger } from '../../logging/logger.js';
import { counter, gauge, histogram } from '../../metrics/metrics.js';
import { SpanKind, tracingEnabled, withSpan } from '../../tracing/tracing.js';
import { sleep } from '../../workers/sleep.js';
import type { CallOptions, SyncApiClient, SyncApiDefinition } from '../definition.js';
import { UpstreamUnavailableError } from '../upstream-error.js';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';
import { deserialize, fromServiceError, META, metadataSetter, methodPath, serialize } from './wire.js';

export interface SyncClientOptions {
  /** `http://host:port` or `grpc://host:port` (NOVA_<SERVICE>_URL). */
  url: string;
  /** This process's services, sent as `nova-caller` (logs and metrics on the callee). */
  caller: string;
  internalToken?: string;
  /** The mTLS hook: e.g. credentials.createSsl(ca, key, cert). */
  credentials?: ChannelCredentials;
  logger: Logger;
  metrics: Registry;
  /** Deadline of a method that declares none (ms). */
  defaultDeadlineMs?: number;
  /** Attempts of an idempotent call, the first included (default 3). */
  maxAttempts?: number;
  /** First backoff (ms), doubled per retry with full jitter (default 50). */
  backoffMs?: number;
  breaker?: { failureThreshold?: number; openMs?: number; now?: () => number };
}

export type GrpcSyncClient<D extends SyncApiDefinition> = SyncApiClient<D> & {
  readonly circuit: CircuitState;
  /** Resolves when the channel is connected, rejects after the deadline (readiness). */
  ping(deadlineMs?: number): Promise<void>;
  close(): void;
};

/**
 * Parses `http://host:port` (a process's one port: HTTP and gRPC) or
 * `grpc://host:port` (a separate gRPC port) into the channel target grpc-js expects.
 */
export function grpcTarget(url: string): string {
  const parsed = new URL(url);
  if ((parsed.protocol !== 'grpc:' && parsed.protocol !== 'http:') || !parsed.hostname || !parsed.port) {
    throw new TypeError(`"${url}" is not an http://host:port or grpc://host:port address`);
  }
  return `${parsed.hostname}:${parsed.port}`;
}

// Statuses that say the upstream (or the way to it) is unwell, not that the request was wrong.
const OUTAGE = new Set([
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.CANCELLED,
  GrpcStatus.UNKNOWN,
  GrpcStatus.INTERNAL,
]);

/**
 * The network binding of a sync API: one gRPC channel per upstream, a
 * deadline on every call, retries with jittered backoff for idempotent
 * methods only (within the deadline), and a circuit breaker that turns a
 * failing upstream into an immediate UpstreamUnavailableError (503 at the
 * edge). The caller's principal and trace context travel as metadata.
 */
export function createSyncClient<D extends SyncApiDefinition>(
  definition: D,
  options: SyncClientOptions,
): GrpcSyncClient<D> {
  const upstream = definition.service;
  const target = grpcTarget(options.url);
  const channel = new Client(target, options.credentials ?? grpcCredentials.createInsecure(), {
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    // Our own retries are deadline- and idempotency-aware; grpc-js's would double them.
    'grpc.enable_retries': 0,
  });
  const maxAttempts = Math.max(1, options.maxAttempts ?? 3);
  const backoffMs = options.backoffMs ?? 50;
  const calls = counter(options.metrics, {
    name: 'nova_sync_client_requests_total',
    help: 'Sync API calls made over gRPC, by upstream, method and outcome (ok, error, unavailable, circuit_open)',
    labelNames: ['upstream', 'method', 'outcome'],
  });
  const retries = counter(options.metrics, {
    name: 'nova_sync_client_retries_total',
    help: 'Retries of idempotent sync API calls',
    labelNames: ['upstream', 'method'],
  });
  const duration = histogram(options.metrics, {
    name: 'nova_sync_client_duration_seconds',
    help: 'Sync API call time over gRPC, retries included',
    labelNames: ['upstream', 'method'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  const circuitGauge = gauge(options.metrics, {
    name: 'nova_sync_circuit_open',
    help: 'Circuit state per upstream: 0 closed, 0.5 half-open, 1 open',
    labelNames: ['upstream'],
  });
  circuitGauge.set({ upstream }, 0);
  const breaker = new CircuitBreaker({
    failureThreshold: options.breaker?.failureThreshold ?? 5,
    openMs: options.breaker?.openMs ?? 5000,
    now: options.breaker?.now,
    onStateChange: (state) => {
      circuitGauge.set({ upstream }, state === 'open' ? 1 : state === 'half-open' ? 0.5 : 0);
      const log = state === 'open' ? options.logger.warn : options.logger.info;
      log.call(options.logger, { upstream, circuit: state }, 'sync API circuit changed state');
    },
  });

  const attempt = (path: string, request: unknown, metadata: Metadata, deadline: number) =>
    new Promise<unknown>((resolve, reject) => {
      channel.makeUnaryRequest(
        path,
        serialize,
        deserialize,
        request,
        metadata,
        { deadline },
        (error: ServiceError | null, value?: unknown) => (error ? reject(error) : resolve(value)),
      );
    });

  // A CLIENT span per call (retries included); the traceparent injected below
  // names it, so the server's span is its child (ADR 014).
  const call = (method: string, request: unknown, callOptions: CallOptions = {}) =>
    withSpan(
      `${definition.service}/${method}`,
      tracingEnabled()
        ? {
            'rpc.system': 'grpc',
            'rpc.service': definition.service,
            'rpc.method': method,
            'server.address': target,
          }
        : {},
      () => callUntraced(method, request, callOptions),
      { kind: SpanKind.CLIENT },
    );

  const callUntraced = async (method: string, request: unknown, callOptions: CallOptions = {}) => {
    const spec = definition.methods[method];
    if (!spec) throw new TypeError(`${upstream} sync API has no method "${method}"`);
    const path = methodPath(definition, method);
    const deadline =
      Date.now() + (callOptions.deadlineMs ?? spec.deadlineMs ?? options.defaultDeadlineMs ?? 2000);
    const metadata = new Metadata();
    if (options.internalToken) metadata.set(META.authorization, `Bearer ${options.internalToken}`);
    metadata.set(META.caller, options.caller);
    if (callOptions.principal) metadata.set(META.principal, JSON.stringify(callOptions.principal));
    propagation.inject(otelContext.active(), metadata, metadataSetter);
    const labels = { upstream, method };
    const stopTimer = duration.startTimer(labels);
    try {
      for (let n = 1; ; n++) {
        if (!breaker.tryAcquire()) {
          calls.inc({ ...labels, outcome: 'circuit_open' });
          throw new UpstreamUnavailableError(upstream, 'circuit open', breaker.retryAfterSeconds());
        }
        let failure: NovaError;
        let outage: boolean;
        try {
          const value = await attempt(path, request, metadata, deadline);
          breaker.success();
          calls.inc({ ...labels, outcome: 'ok' });
          return value;
        } catch (error) {
          ({ failure, outage } = classify(error as ServiceError, upstream));
        }
        if (outage) breaker.failure();
        else breaker.success(); // it answered: a business error says the upstream is up
        const retriable = outage && spec.idempotent && n < maxAttempts;
        const pause = Math.random() * backoffMs * 2 ** (n - 1);
        if (!retriable || Date.now() + pause >= deadline) {
          calls.inc({ ...labels, outcome: outage ? 'unavailable' : 'error' });
          throw failure;
        }
        retries.inc(labels);
        await sleep(pause);
      }
    } finally {
      stopTimer();
    }
  };

  const client: Record<string, unknown> = {};
  for (const method of Object.keys(definition.methods)) {
    client[method] = (request: unknown, callOptions?: CallOptions) => call(method, request, callOptions);
  }
  Object.defineProperty(client, 'circuit', { get: () => breaker.state });
  client.ping = (deadlineMs = 1000) =>
    new Promise<void>((resolve, reject) =>
      channel.waitForReady(Date.now() + deadlineMs, (error) =>
        error ? reject(new UpstreamUnavailableError(upstream, error.message)) : resolve(),
      ),
    );
  client.close = () => channel.close();
  return client as GrpcSyncClient<D>;
}

/** The error the caller sees, and whether it counts against the upstream's health. */
function classify(error: ServiceError, upstream: string): { failure: NovaError; outage: boolean } {
  const status = error.code;
  const remote = fromServiceError(error);
  if (remote) return { failure: remote, outage: remote.status === 503 };
  if (status === GrpcStatus.UNAUTHENTICATED || status === GrpcStatus.PERMISSION_DENIED) {
    // The internal token was refused: a deployment mistake, not the end user's.
    return { failure: new InternalError({ cause: error }), outage: false };
  }
  if (OUTAGE.has(status)) {
    const reason =
      status === GrpcStatus.DEADLINE_EXCEEDED ? 'deadline exceeded' : error.details || 'unavailable';
    return { failure: new UpstreamUnavailableError(upstream, reason, 1, { cause: error }), outage: true };
  }
  return { failure: new InternalError({ cause: error }), outage: false };
}
