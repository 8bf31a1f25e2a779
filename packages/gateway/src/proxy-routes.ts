import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type NovaApp, UnavailableError } from '@nova/kernel';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { forwardHeaders } from './forward-headers.js';
import type { RateLimits } from './rate-limits.js';
import type { GatewayRoute } from './route-table.js';
import type { SocketRelay } from './socket-relay.js';
import type { Upstream } from './upstream.js';

/** The raw socket of an upgrade request, set by the gateway's 'upgrade' listener before routing. */
export const UPGRADE = Symbol('nova.gateway.upgrade');
export type UpgradeRequest = IncomingMessage & { [UPGRADE]?: { socket: Duplex; head: Buffer } };

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
// Failures before the upstream saw the request: safe to try an idempotent request again.
const NOT_REACHED = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'EPIPE',
]);
const TIMEOUTS = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'FST_REPLY_FROM_GATEWAY_TIMEOUT',
]);

export interface ProxyOptions {
  routes: readonly GatewayRoute[];
  upstreamOf(route: GatewayRoute): Upstream;
  relay: SocketRelay;
  rateLimits: RateLimits;
  internalToken: string | undefined;
  retries: number;
}

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string } } | undefined;
  return e?.cause?.code ?? e?.code;
}

/**
 * Every route of the table becomes a route of the gateway with the same
 * method, pattern and access rule, so the edge's auth hook verifies the
 * token once (401 here for a bad or revoked one) before anything is sent
 * on. The body is passed as a stream (uploads are never buffered) and so is
 * the answer (HLS segments). Idempotent requests are retried when their
 * upstream could not be reached; an unreachable or timed-out upstream
 * answers 503 problem+json and counts towards its circuit.
 */
export async function registerProxyRoutes(app: NovaApp, options: ProxyOptions): Promise<void> {
  // The body is not the gateway's to read: every content type passes through as a stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  app.addHook('onRequest', options.rateLimits.hook);
  // An upgrade answered before it reached the relay (401, 429, 503) leaves its raw socket open.
  app.addHook('onResponse', (request, _reply, done) => {
    const upgrade = (request.raw as UpgradeRequest)[UPGRADE];
    if (upgrade && !upgrade.socket.destroyed) upgrade.socket.end();
    done();
  });

  for (const route of options.routes) {
    const upstream = options.upstreamOf(route);
    app.route({
      method: route.method as 'GET',
      url: route.url,
      config: { auth: route.auth, acceptQueryToken: route.acceptQueryToken },
      schema: { hide: true },
      handler: (request, reply) => {
        upstream.acquire();
        const target = new URL(request.url, upstream.url);
        const headers = forwardHeaders(request.headers, {
          ip: request.ip,
          host: request.headers.host,
          protocol: request.protocol,
          requestId: request.id,
          principal: request.principal,
          internalToken: options.internalToken,
        });
        const upgrade = (request.raw as UpgradeRequest)[UPGRADE];
        if (upgrade) {
          reply.hijack();
          target.protocol = target.protocol === 'https:' ? 'wss:' : 'ws:';
          options.relay.relay({
            request: request.raw,
            socket: upgrade.socket,
            head: upgrade.head,
            upstream,
            target,
            headers: stringHeaders(headers),
          });
          return reply;
        }
        return forward(request, reply, upstream, target, headers, options.retries);
      },
    });
  }
}

function stringHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    // The relay makes its own handshake; the client's would confuse it.
    if (
      value === undefined ||
      name.startsWith('sec-websocket-') ||
      name === 'upgrade' ||
      name === 'connection'
    )
      continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function forward(
  request: FastifyRequest,
  reply: FastifyReply,
  upstream: Upstream,
  target: URL,
  headers: Record<string, string | string[] | undefined>,
  retries: number,
): FastifyReply {
  const started = performance.now();
  let settled = false;
  const settle = (outcome: () => void) => {
    if (settled) return;
    settled = true;
    outcome();
  };
  // A client that goes away before the answer frees the circuit's probe without judging the upstream.
  reply.raw.once('close', () => settle(() => upstream.released()));
  const idempotent = IDEMPOTENT.has(request.method);
  return reply.from(target.toString(), {
    timeout: upstream.timeoutMs,
    rewriteRequestHeaders: () => headers as Record<string, string>,
    // The edge's CORS answer is the only one: an upstream's would contradict it.
    rewriteHeaders: (upstreamHeaders) => {
      const out = { ...upstreamHeaders };
      for (const name of Object.keys(out)) if (name.startsWith('access-control-')) delete out[name];
      return out;
    },
    retryDelay: ({ err, attempt }) => {
      if (!err || !idempotent || attempt >= retries || !NOT_REACHED.has(errorCode(err) ?? '')) return null;
      upstream.retried();
      return 25 * 2 ** attempt * (0.5 + Math.random());
    },
    onResponse: (_request, replyFromUpstream, response) => {
      settle(() =>
        upstream.answered(request.method, response.statusCode, (performance.now() - started) / 1000),
      );
      replyFromUpstream.send(response.stream);
    },
    onError: (replyOnError, { error }) => {
      const code = errorCode(error) ?? '';
      const timedOut = TIMEOUTS.has(code) || (error as { statusCode?: number }).statusCode === 504;
      settle(() => upstream.failed(timedOut ? 'timeout' : 'unreachable'));
      replyOnError.send(
        timedOut
          ? new UnavailableError(
              'upstream_timeout',
              `The ${upstream.service} service did not answer in time.`,
              {
                retryAfterSeconds: 1,
              },
            )
          : new UnavailableError(
              'upstream_unavailable',
              `The ${upstream.service} service is temporarily unavailable.`,
              { retryAfterSeconds: 1 },
            ),
      );
    },
  });
}
