import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/config.js';
import { networkMatcher } from '../config/networks.js';
import type { NovaApp } from './app.js';
import { sendProblem } from './error-handler.js';
import { buildProblem } from './problem.js';

/**
 * What the edge adds to every answer and who it lets in: security headers,
 * CORS from an allow-list, and the /metrics guard. One place, installed on
 * the root instance before any route, so errors, 404s and framework
 * rejections carry the same headers as successes.
 */

const CORS_METHODS = 'GET, POST, PUT, PATCH, DELETE';
const CORS_ALLOWED_HEADERS = 'authorization, content-type, x-request-id';
const CORS_EXPOSED_HEADERS = 'x-request-id, retry-after, location';
const CORS_MAX_AGE_SECONDS = '600';

/** The headers every response carries; computed once, set by reference on the hot path. */
export function securityHeaders(config: Config): Record<string, string> {
  const headers: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    // A JSON API is never framed; the docs page is not either.
    'content-security-policy': "frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };
  // HSTS over plain http would be ignored at best and lock a dev box out at worst.
  if (config.http.publicUrl.startsWith('https:'))
    headers['strict-transport-security'] = 'max-age=31536000; includeSubDomains';
  return headers;
}

export function installEdgePolicies(app: NovaApp, config: Config): void {
  const headers = securityHeaders(config);
  const allowed = new Set(config.http.corsOrigins);
  const corsEnabled = allowed.size > 0;

  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers);
    if (!corsEnabled) return done();
    // Answers differ by Origin once CORS is on: caches must key on it.
    reply.header('vary', 'Origin');
    const origin = request.headers.origin;
    const isAllowed = typeof origin === 'string' && allowed.has(origin);
    if (isAllowed) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-expose-headers', CORS_EXPOSED_HEADERS);
    }
    if (request.method !== 'OPTIONS' || request.headers['access-control-request-method'] === undefined)
      return done();
    // A preflight: answered here for allowed origins, refused for the rest.
    if (!isAllowed) {
      sendProblem(reply, {
        status: 403,
        body: buildProblem(403, 'cors_origin_forbidden', 'This origin may not call the API.', {
          traceId: request.id,
          instance: pathOf(request.url),
        }),
        headers: {},
        unexpected: false,
      });
      return;
    }
    reply
      .code(204)
      .header('access-control-allow-methods', CORS_METHODS)
      .header('access-control-allow-headers', CORS_ALLOWED_HEADERS)
      .header('access-control-max-age', CORS_MAX_AGE_SECONDS)
      .send();
  });
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * /metrics is for the operator's scraper: requests from NOVA_METRICS_ALLOW
 * networks (the client IP as trusted proxies report it), or bearing
 * NOVA_METRICS_TOKEN. Everyone else gets a 403.
 */
export function metricsGuard(config: Config): (request: FastifyRequest, reply: FastifyReply) => boolean {
  const inAllowedNetwork = networkMatcher(config.http.metrics.allow);
  const token = config.http.metrics.token ? Buffer.from(`Bearer ${config.http.metrics.token}`) : undefined;
  return (request, reply) => {
    if (inAllowedNetwork(request.ip)) return true;
    const presented = request.headers.authorization;
    if (token && typeof presented === 'string') {
      const given = Buffer.from(presented);
      if (given.length === token.length && timingSafeEqual(given, token)) return true;
    }
    sendProblem(reply, {
      status: 403,
      body: buildProblem(403, 'metrics_forbidden', 'Metrics are not available to this client.', {
        traceId: request.id,
        instance: pathOf(request.url),
      }),
      headers: {},
      unexpected: false,
    });
    return false;
  };
}
