import { counter, gauge, histogram, type Registry, UpstreamUnavailableError } from '@nova/kernel';
import { CircuitBreaker, type CircuitState } from '@nova/kernel/grpc';
import type { GatewaySettings } from './config.js';

/**
 * One service as the gateway sees it: where its process is, how long to
 * wait for it, and a circuit breaker that turns repeated failures to reach
 * it into an immediate 503 for its paths (and only its paths).
 */
export interface Upstream {
  service: string;
  /** `http://host:port` (NOVA_<SERVICE>_URL), or undefined when the service was given no address. */
  url: string | undefined;
  timeoutMs: number;
  readonly circuit: CircuitState;
  /** Reserves the right to send a request now; throws the 503 to answer when the circuit is open. */
  acquire(): void;
  /** The upstream answered (any status: it is up). */
  answered(method: string, status: number, seconds: number): void;
  /** The upstream could not be reached or did not answer in time. */
  failed(reason: 'unreachable' | 'timeout'): void;
  /** A reserved request ended without saying anything about the upstream (client went away). */
  released(): void;
  retried(): void;
}

export interface UpstreamMetrics {
  duration: ReturnType<typeof histogram<'upstream' | 'method' | 'status_class'>>;
  errors: ReturnType<typeof counter<'upstream' | 'reason'>>;
  retries: ReturnType<typeof counter<'upstream'>>;
  circuit: ReturnType<typeof gauge<'upstream'>>;
}

export function upstreamMetrics(registry: Registry): UpstreamMetrics {
  return {
    duration: histogram(registry, {
      name: 'nova_gateway_upstream_duration_seconds',
      help: 'Time from sending a request upstream to its response headers, by upstream, method and status class',
      labelNames: ['upstream', 'method', 'status_class'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    errors: counter(registry, {
      name: 'nova_gateway_upstream_errors_total',
      help: 'Requests the gateway answered itself because of an upstream: unreachable, timeout, circuit_open, unconfigured',
      labelNames: ['upstream', 'reason'],
    }),
    retries: counter(registry, {
      name: 'nova_gateway_upstream_retries_total',
      help: 'Retries of idempotent requests whose upstream could not be reached',
      labelNames: ['upstream'],
    }),
    circuit: gauge(registry, {
      name: 'nova_gateway_circuit_open',
      help: 'Circuit state per upstream: 0 closed, 0.5 half-open, 1 open',
      labelNames: ['upstream'],
    }),
  };
}

const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 0.5, open: 1 };

export function createUpstream(
  service: string,
  url: string | undefined,
  settings: GatewaySettings,
  metrics: UpstreamMetrics,
  onCircuitChange: (service: string, state: CircuitState) => void,
): Upstream {
  const labels = { upstream: service };
  metrics.circuit.set(labels, 0);
  const breaker = new CircuitBreaker({
    ...settings.breaker,
    onStateChange: (state) => {
      metrics.circuit.set(labels, CIRCUIT_VALUE[state]);
      onCircuitChange(service, state);
    },
  });
  return {
    service,
    url,
    timeoutMs: settings.timeouts[service] ?? settings.defaultTimeoutMs,
    get circuit() {
      // Reading the state lets an open circuit whose time is up turn half-open (the gauge follows).
      return breaker.state;
    },
    acquire() {
      if (url === undefined) {
        metrics.errors.inc({ ...labels, reason: 'unconfigured' });
        throw new UpstreamUnavailableError(service, 'no NOVA_<SERVICE>_URL', 30);
      }
      if (!breaker.tryAcquire()) {
        metrics.errors.inc({ ...labels, reason: 'circuit_open' });
        throw new UpstreamUnavailableError(service, 'circuit open', breaker.retryAfterSeconds());
      }
    },
    answered(method, status, seconds) {
      breaker.success();
      metrics.duration.observe({ ...labels, method, status_class: `${Math.floor(status / 100)}xx` }, seconds);
    },
    failed(reason) {
      breaker.failure();
      metrics.errors.inc({ ...labels, reason });
    },
    released() {
      breaker.release();
    },
    retried() {
      metrics.retries.inc(labels);
    },
  };
}
