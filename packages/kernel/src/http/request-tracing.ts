import { context, type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  contextWithSpan,
  extractTraceContext,
  newTraceId,
  startSpan,
  traceIdOf,
  tracingEnabled,
} from '../tracing/tracing.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The W3C trace id of this request (problem+json `traceId`). */
    traceId: string;
  }
}

const spans = new WeakMap<FastifyRequest, Span>();

/**
 * The request's trace id without the hooks (errors Fastify raises before
 * routing): the incoming traceparent's, else a fresh one.
 */
export function traceIdFor(request: FastifyRequest): string {
  if (request.traceId) return request.traceId;
  request.traceId = traceIdOf(extractTraceContext(request.headers)) ?? newTraceId();
  return request.traceId;
}

/**
 * A SERVER span per request (ADR 014), continuing an incoming `traceparent`.
 * The span's context is made active for the rest of the request: the hook
 * chain and handler run inside `context.with`, and the raw request's event
 * listeners (body parsing) are bound to it, so SQL spans and outbox writes of
 * the handler become its children. Without tracing, only the trace id is set
 * (incoming or fresh), so problem+json still names one.
 */
export function registerRequestTracing(app: FastifyInstance): void {
  app.decorateRequest('traceId', '');
  app.addHook('onRequest', (request, _reply, done) => {
    const parent = extractTraceContext(request.headers);
    if (!tracingEnabled()) {
      request.traceId = traceIdOf(parent) ?? newTraceId();
      done();
      return;
    }
    const path = request.url.split('?', 1)[0] ?? request.url;
    const span = startSpan(
      request.method,
      {
        'http.request.method': request.method,
        'url.path': path,
        'url.scheme': request.protocol,
        'client.address': request.ip,
        'nova.request.id': String(request.id),
      },
      { kind: SpanKind.SERVER, parent },
    ) as Span;
    spans.set(request, span);
    request.traceId = span.spanContext().traceId;
    const active = contextWithSpan(span, parent);
    context.bind(active, request.raw);
    context.with(active, done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      const route = request.is404 ? undefined : request.routeOptions.url;
      if (route) {
        span.updateName(`${request.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      spans.delete(request);
    }
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    const span = spans.get(request);
    if (span) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'client aborted' });
      span.end();
      spans.delete(request);
    }
    done();
  });
}
