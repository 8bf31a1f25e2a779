import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { LogEvent } from 'kysely';
import { tracingEnabled } from './tracing.js';

const OPERATION = /^\s*(?:\/\*.*?\*\/\s*)?([a-zA-Z]+)/s;

/**
 * A CLIENT span for one statement Kysely ran, made from its log event: the
 * event arrives in the caller's async context right after the statement, so
 * the span lands under whatever span the caller had active (the HTTP request,
 * a consumer delivery). Text only: Kysely sends values as $n parameters, and
 * they are not recorded.
 */
export function recordQuerySpan(event: LogEvent, schema: string): void {
  if (!tracingEnabled()) return;
  const end = performance.timeOrigin + performance.now();
  const text = event.query.sql;
  const operation = (OPERATION.exec(text)?.[1] ?? 'query').toUpperCase();
  const span = trace.getTracer('nova').startSpan(
    `${operation} ${schema}`,
    {
      kind: SpanKind.CLIENT,
      startTime: end - event.queryDurationMillis,
      attributes: {
        'db.system.name': 'postgresql',
        'db.namespace': schema,
        'db.operation.name': operation,
        'db.query.text': text,
      },
    },
    context.active(),
  );
  if (event.level === 'error') {
    const error = event.error;
    if (error instanceof Error) span.recordException(error);
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  }
  span.end(end);
}
