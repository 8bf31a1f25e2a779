import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyRequest, LogController } from 'fastify';
import type { Registry } from 'prom-client';
import type { Config } from '../config/config.js';
import { UnavailableError } from '../errors/errors.js';
import type { HealthRegistry } from '../health/health-registry.js';
import type { Logger } from '../logging/logger.js';
import { histogram } from '../metrics/metrics.js';
import type { TokenVerifier } from '../principal.js';
import type { NovaApp } from './app.js';
import { registerAuth } from './auth-plugin.js';
import { installEdgePolicies, metricsGuard, securityHeaders } from './edge.js';
import { installErrorHandling, renderError, sendProblem } from './error-handler.js';
import { registerOpsRoutes } from './ops-routes.js';
import { registerRequestTracing, traceIdFor } from './request-tracing.js';
import { ProblemSchema } from './schemas.js';
import { strictValidatorCompiler } from './validation.js';

export interface HttpServerOptions {
  config: Config;
  logger: Logger;
  metrics: Registry;
  health: HealthRegistry;
  /** Read per request: the auth service may come up after the server is built. */
  getTokenVerifier: () => TokenVerifier | undefined;
  title?: string;
  version?: string;
  /**
   * The document /openapi.json and /docs show, when not this server's own
   * routes' (the gateway: the merged documents of the services behind it).
   */
  openApiDocument?: () => Record<string, unknown>;
}

export const DOCS_PREFIX = '/docs';
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
// Probes and scrapes would drown the request log.
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

// Query values that may carry credentials (e.g. ?accessToken= on WebSocket upgrades).
const SECRET_QUERY_KEY = /token|secret|password|code|key|signature/i;

/** The request as logged: the URL's credential-bearing query values masked. */
export function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: redactUrlQuery(request.url),
    remoteAddress: request.ip,
  };
}

export function redactUrlQuery(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq === -1 ? pair : pair.slice(0, eq);
      return eq !== -1 && SECRET_QUERY_KEY.test(decodeURIComponentSafe(key)) ? `${key}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function requestId(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Requests that reach a closing instance (keep-alive connections, a balancer
 * that has not noticed yet) get a problem with Retry-After and the connection
 * closed, so the client retries elsewhere; before the token check, which may
 * already be gone.
 */
function refuseWhileClosing(app: NovaApp): void {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    reply.header('connection', 'close');
    done(
      new UnavailableError('shutting_down', 'This instance is shutting down; retry shortly.', {
        retryAfterSeconds: 1,
      }),
    );
  });
}

/**
 * Builds the HTTP server with errors, auth, OpenAPI, health and metrics in
 * place. Callers register service plugins (`app.register(p, { prefix: API_PREFIX })`)
 * and then call `app.ready()` / `app.listen()`.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<NovaApp> {
  const { config } = options;
  const app = Fastify({
    loggerInstance: options.logger.child({}, { serializers: { req: serializeRequest } }),
    bodyLimit: config.http.bodyLimit,
    genReqId: requestId,
    requestIdHeader: false,
    logController: new LogController({ disableRequestLogging: (req) => QUIET_PATHS.has(req.url) }),
    // X-Forwarded-For is believed only from configured proxies; otherwise a
    // client could choose its own IP (and dodge per-IP limits).
    trustProxy: config.http.trustedProxies.length > 0 ? config.http.trustedProxies : false,
    // Requests that arrive while closing are answered by our own hook below (a problem with
    // Retry-After, so a client knows to come back) rather than Fastify's bare 503.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // Errors Fastify raises before routing (e.g. a malformed URL) are problems too.
    frameworkErrors: (error, request, reply) => {
      reply.headers(securityHeaders(config));
      const q = request.url.indexOf('?');
      const instance = q === -1 ? request.url : request.url.slice(0, q);
      sendProblem(reply as never, renderError(error, { traceId: traceIdFor(request), instance }));
    },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as NovaApp;

  // First hook: everything after it runs inside the request's span.
  registerRequestTracing(app);
  app.setValidatorCompiler(strictValidatorCompiler);
  // JSON only: a text/plain body is an unsupported media type (415), not a string to validate.
  app.removeContentTypeParser('text/plain');

  app.addSchema(ProblemSchema);

  app.addHook('onRoute', (route) => {
    if (route.url.startsWith(DOCS_PREFIX)) route.config = { ...route.config, auth: 'public' };
    const auth = route.config?.auth ?? 'required';
    if (auth === 'public') return;
    // An empty requirement object makes the token optional in OpenAPI terms.
    const security = auth === 'optional' ? [{ bearerAuth: [] }, {}] : [{ bearerAuth: [] }];
    route.schema = { ...route.schema, security } as typeof route.schema;
  });

  const duration = histogram(options.metrics, {
    name: 'nova_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const durationByKey = new Map<string, ReturnType<typeof duration.labels>>();
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
    const key = `${request.method} ${reply.statusCode} ${route}`;
    let child = durationByKey.get(key);
    if (child === undefined) {
      // Label sets are few (routes × methods × statuses); resolving each once skips per-request hashing.
      child = duration.labels({ method: request.method, route, status_code: String(reply.statusCode) });
      durationByKey.set(key, child);
    }
    child.observe(reply.elapsedTime / 1000);
    done();
  });

  installErrorHandling(app);
  // Before auth: a preflight is answered (or refused) without a token.
  installEdgePolicies(app, config);
  refuseWhileClosing(app);
  registerAuth(app, options.getTokenVerifier, config.grpc.acceptedInternalTokens);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title ?? 'Nova API', version: options.version ?? '1.0.0' },
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    refResolver: {
      // Shared schemas keep their $id as their component name (e.g. "Problem").
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  const document = options.openApiDocument;
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    ...(document ? { transformSpecification: () => document(), transformSpecificationClone: false } : {}),
  });

  app.get('/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, () =>
    document ? document() : app.swagger(),
  );
  registerOpsRoutes(app, {
    health: options.health,
    metrics: options.metrics,
    metricsAccess: metricsGuard(config),
  });
  return app;
}
