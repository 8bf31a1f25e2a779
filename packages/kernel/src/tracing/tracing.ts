import { randomBytes } from 'node:crypto';
import {
  type Attributes,
  type Context,
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TimeInput,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * The kernel's tracing surface (ADR 014). Everything here is cheap when no
 * exporter is configured: `withSpan` then just calls `fn`, injection writes
 * nothing, and no context manager runs. `startTracing` (setup.ts) turns it on.
 */

export type { Attributes, Context, Link, Span };
export { SpanKind };

const propagator = new W3CTraceContextPropagator();
const TRACER = 'nova';
let enabled = false;

/** True while an exporter is installed (startTracing); spans are only made then. */
export const tracingEnabled = (): boolean => enabled;

/** @internal setup.ts flips it; nothing else should. */
export function setTracingEnabled(on: boolean): void {
  enabled = on;
}

const tracer = () => trace.getTracer(TRACER);

export interface SpanOptions {
  kind?: SpanKind;
  /** Parent context (default: the active one). */
  parent?: Context;
  links?: Link[];
  startTime?: TimeInput;
}

const NOOP_SPAN = trace.wrapSpanContext({ traceId: '', spanId: '', traceFlags: 0 });

/**
 * Runs `fn` inside a new span that is active for everything `fn` awaits
 * (SQL spans, outbox writes, outgoing calls become its children). A thrown
 * error marks the span failed and is rethrown unchanged.
 */
export async function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  options: SpanOptions = {},
): Promise<T> {
  if (!enabled) return fn(NOOP_SPAN);
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      attributes,
      links: options.links,
      startTime: options.startTime,
    },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    failSpan(span, error);
    throw error;
  } finally {
    span.end();
  }
}

/** Starts a span the caller ends (for spans that do not wrap one function, e.g. an HTTP request). */
export function startSpan(name: string, attributes: Attributes, options: SpanOptions = {}): Span | undefined {
  if (!enabled) return undefined;
  return tracer().startSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      attributes,
      links: options.links,
      startTime: options.startTime,
    },
    options.parent ?? context.active(),
  );
}

/** Records `error` on the span and marks it failed. */
export function failSpan(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/** Runs `fn` with `ctx` active (a no-op wrapper while tracing is off). */
export function runInContext<T>(ctx: Context, fn: () => T): T {
  return enabled ? context.with(ctx, fn) : fn();
}

/** The context with `span` active, for runInContext. */
export const contextWithSpan = (span: Span, parent: Context = context.active()): Context =>
  trace.setSpan(parent, span);

/** Plain header / metadata objects: HTTP headers, Kafka headers, gRPC metadata as a record. */
export type Carrier = Record<string, string | string[] | undefined>;

/**
 * Writes W3C `traceparent` (and `tracestate`) for `ctx` (default: the active
 * context) into `carrier`; writes nothing when tracing is off or no span is active.
 */
export function injectTraceContext<C extends Record<string, string>>(carrier: C, ctx?: Context): C {
  if (enabled) propagator.inject(ctx ?? context.active(), carrier, defaultTextMapSetter);
  return carrier;
}

/**
 * The context a `traceparent` in `carrier` continues (on top of `base`,
 * default the root context); `base` unchanged when the carrier has none or
 * an invalid one. Works with tracing off too (the HTTP layer reads the
 * incoming trace id from it).
 */
export function extractTraceContext(carrier: Carrier, base: Context = ROOT_CONTEXT): Context {
  return propagator.extract(base, carrier, defaultTextMapGetter);
}

/** The `traceparent` of the active span (or `ctx`'s), undefined when none. */
export function currentTraceparent(ctx?: Context): string | undefined {
  if (!enabled) return undefined;
  return injectTraceContext({} as Record<string, string>, ctx).traceparent;
}

/** The trace id of `ctx`'s span (default: the active one), when it has a valid one. */
export function traceIdOf(ctx: Context = context.active()): string | undefined {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

// Trace ids are minted per request: one getrandom call per 256 of them, not
// one each (a sync randomBytes(16) per request cost ~3% of a hot read's CPU).
const ID_POOL_BYTES = 4096;
let idPool = Buffer.alloc(0);
let idPoolOffset = 0;

/** A fresh W3C trace id (32 lowercase hex digits, not all zero). */
export function newTraceId(): string {
  for (;;) {
    if (idPoolOffset + 16 > idPool.length) {
      idPool = randomBytes(ID_POOL_BYTES);
      idPoolOffset = 0;
    }
    const id = idPool.toString('hex', idPoolOffset, idPoolOffset + 16);
    idPoolOffset += 16;
    if (id !== '00000000000000000000000000000000') return id;
  }
}

/**
 * The span context a `traceparent` value names, as a link target (batch
 * consumers link every event's producer). Undefined for a missing or invalid value.
 */
export function linkFromTraceparent(traceparent: string | null | undefined): Link | undefined {
  if (!traceparent) return undefined;
  const spanContext = trace.getSpanContext(extractTraceContext({ traceparent }));
  return spanContext && isSpanContextValid(spanContext) ? { context: spanContext } : undefined;
}

/**
 * Span options for processing `events`: one event continues its producer's
 * trace as a child (and links it); several (a batch) start a new trace that
 * links every producer, since a span has one parent.
 */
export function consumerSpanOptions(events: readonly { traceparent?: string }[]): SpanOptions {
  const links = events.map((e) => linkFromTraceparent(e.traceparent)).filter((l) => l !== undefined);
  const only = events.length === 1 ? events[0]?.traceparent : undefined;
  return {
    kind: SpanKind.CONSUMER,
    parent: only ? extractTraceContext({ traceparent: only }) : ROOT_CONTEXT,
    links,
  };
}
