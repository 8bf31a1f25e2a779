import { timingSafeEqual } from 'node:crypto';
import type { Server as NetServer } from 'node:net';
import {
  status as GrpcStatus,
  type Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { context as otelContext, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Registry } from 'prom-client';
import { ValidationError } from '../../errors/errors.js';
import type { Logger } from '../../logging/logger.js';
import { counter, histogram } from '../../metrics/metrics.js';
import { SpanKind, tracingEnabled, withSpan } from '../../tracing/tracing.js';
import type { SyncApiDefinition } from '../definition.js';
import { shareHttpPort } from './shared-port.js';
import {
  deserialize,
  META,
  metadataGetter,
  methodPath,
  readPrincipal,
  serialize,
  toServiceError,
  UNPARSABLE,
} from './wire.js';

export interface ServedApi {
  definition: SyncApiDefinition;
  // biome-ignore lint/suspicious/noExplicitAny: handlers are checked against the definition where they are built
  handlers: Record<string, (request: any, context: any) => Promise<unknown>>;
}

export interface SyncServerOptions {
  apis: ServedApi[];
  /** Callers must present `authorization: Bearer <token>`; unset only outside production. */
  internalToken?: string;
  /** Further tokens accepted beside `internalToken` while it is rotated (NOVA_INTERNAL_TOKENS_ACCEPTED). */
  acceptedInternalTokens?: readonly string[];
  /** The mTLS hook: e.g. ServerCredentials.createSsl(ca, [{cert_chain, private_key}], true). */
  credentials?: ServerCredentials;
  logger: Logger;
  metrics: Registry;
}

export interface SyncServer {
  /** Binds `host:port` (port 0: any free one); resolves to the bound port. */
  listen(host: string, port: number): Promise<number>;
  /**
   * Also serves the APIs on an HTTP server's own port: HTTP/2 prior-knowledge
   * connections to it go to gRPC, the rest stay HTTP (call before it listens).
   */
  shareHttpPort(httpServer: NetServer): void;
  /** Lets in-flight calls finish until the deadline, then cuts the rest. */
  stop(deadline?: number): Promise<void>;
}

/**
 * Serves the sync APIs of the modules this process runs over gRPC: the
 * service definition is generated from the contract schemas, every request is
 * authenticated (internal token) and validated against its schema before the
 * handler sees it, and the handler runs in the caller's trace context.
 */
export function createSyncServer(options: SyncServerOptions): SyncServer {
  const server = new Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  const requests = counter(options.metrics, {
    name: 'nova_sync_server_requests_total',
    help: 'Sync API calls served over gRPC, by service, method and gRPC status',
    labelNames: ['service', 'method', 'status'],
  });
  const duration = histogram(options.metrics, {
    name: 'nova_sync_server_duration_seconds',
    help: 'Time to serve a sync API call over gRPC',
    labelNames: ['service', 'method'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  const accepted = [
    ...new Set([
      ...(options.internalToken ? [options.internalToken] : []),
      ...(options.acceptedInternalTokens ?? []),
    ]),
  ].map((token) => Buffer.from(`Bearer ${token}`));
  const authorized = (metadata: Metadata): boolean => {
    if (accepted.length === 0) return true;
    const presented = Buffer.from(String(metadata.get(META.authorization)[0] ?? ''));
    return accepted.some(
      (expected) => presented.length === expected.length && timingSafeEqual(presented, expected),
    );
  };

  for (const api of options.apis) {
    const { definition } = api;
    const service: Record<string, ServiceDefinition[string]> = {};
    const implementation: UntypedServiceImplementation = {};
    for (const [method, spec] of Object.entries(definition.methods)) {
      const handler = api.handlers[method];
      if (typeof handler !== 'function') {
        throw new TypeError(`${definition.service} sync API: no handler for "${method}"`);
      }
      const check = TypeCompiler.Compile(spec.request);
      service[method] = {
        path: methodPath(definition, method),
        requestStream: false,
        responseStream: false,
        requestSerialize: serialize,
        requestDeserialize: deserialize,
        responseSerialize: serialize,
        responseDeserialize: deserialize,
        originalName: method,
      };
      const labels = { service: definition.service, method };
      implementation[method] = async (
        call: ServerUnaryCall<unknown, unknown>,
        done: sendUnaryData<unknown>,
      ) => {
        const stopTimer = duration.startTimer(labels);
        const answer = (error: Parameters<sendUnaryData<unknown>>[0], value?: unknown) => {
          requests.inc({ ...labels, status: GrpcStatus[error?.code ?? GrpcStatus.OK] ?? 'UNKNOWN' });
          stopTimer();
          done(error, value);
        };
        if (!authorized(call.metadata)) {
          // No envelope: the caller sees a transport-level refusal, never a user-facing 401.
          return answer({ code: GrpcStatus.UNAUTHENTICATED, details: 'internal token missing or wrong' });
        }
        const request = call.request;
        if (request === UNPARSABLE) {
          return answer(
            toServiceError(new ValidationError('The request is not JSON.', [], 'invalid_argument')),
          );
        }
        if (!check.Check(request)) {
          const issues = [...check.Errors(request)]
            .slice(0, 20)
            .map((e) => ({ field: e.path || '/', message: e.message }));
          return answer(
            toServiceError(
              new ValidationError(
                `Invalid ${definition.service}.${method} request.`,
                issues,
                'invalid_argument',
              ),
            ),
          );
        }
        const principal = readPrincipal(call.metadata);
        if (principal === 'invalid') {
          return answer(toServiceError(new ValidationError('Invalid principal.', [], 'invalid_argument')));
        }
        const trace = propagation.extract(ROOT_CONTEXT, call.metadata, metadataGetter);
        const caller = String(call.metadata.get(META.caller)[0] ?? 'unknown');
        try {
          const run = () => handler(request, { caller, principal, trace });
          // With tracing on, a SERVER span, child of the caller's CLIENT span (ADR 014).
          const result = tracingEnabled()
            ? await withSpan(
                `${definition.service}/${method}`,
                {
                  'rpc.system': 'grpc',
                  'rpc.service': definition.service,
                  'rpc.method': method,
                  'nova.caller': caller,
                },
                run,
                { kind: SpanKind.SERVER, parent: trace },
              )
            : await otelContext.with(trace, run);
          answer(null, result);
        } catch (error) {
          const mapped = toServiceError(error);
          if (mapped.code === GrpcStatus.INTERNAL) {
            options.logger.error(
              { err: error, service: definition.service, method, caller },
              'sync call failed',
            );
          }
          answer(mapped);
        }
      };
    }
    server.addService(service, implementation);
  }

  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
        server.bindAsync(
          address,
          options.credentials ?? ServerCredentials.createInsecure(),
          (error, bound) => (error ? reject(error) : resolve(bound)),
        );
      });
    },
    shareHttpPort(httpServer) {
      const injector = server.createConnectionInjector(
        options.credentials ?? ServerCredentials.createInsecure(),
      );
      shareHttpPort(httpServer, (socket) => injector.injectConnection(socket));
    },
    stop(deadline = Date.now() + 5000) {
      return new Promise((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), Math.max(0, deadline - Date.now()));
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
