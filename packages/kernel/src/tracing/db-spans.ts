import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { LogEvent } from 'kysely';
import { tracingEnabled } from './tracing.js';

const OPERATION = /^\s*(?:\/\*.*?\*\/\s*)?([a-zA-Z]+)/s;
const MAIN_VERB = /^(SELECT|INSERT|UPDATE|DELETE|MERGE|VALUES)\b/i;

/**
 * The statement's verb: its first word, except that a `WITH …` statement is
 * named after its main statement (the first verb outside the common table
 * expressions' parentheses), so an outbox write reads INSERT, not WITH.
 */
export function operationOf(text: string): string {
  const first = OPERATION.exec(text);
  const word = (first?.[1] ?? 'query').toUpperCase();
  if (word !== 'WITH' || !first) return word;
  let depth = 0;
  for (let i = first[0].length; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === "'" || c === '"') {
      const close = text.indexOf(c, i + 1);
      if (close < 0) break;
      i = close;
    } else if (depth === 0 && /[a-zA-Z]/.test(c as string) && !/[\w$]/.test(text[i - 1] ?? ' ')) {
      const verb = MAIN_VERB.exec(text.slice(i, i + 7));
      if (verb?.[1]) return verb[1].toUpperCase();
    }
  }
  return word;
}

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
  const operation = operationOf(text);
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
