import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/logger.js';
import { createMetricsRegistry } from '../../src/metrics/metrics.js';
import { defineSyncApi } from '../../src/sync/definition.js';
import { createSyncClient, createSyncServer } from '../../src/sync/grpc/index.js';
import { OTLP_KIND, type OtlpReceiver, startOtlpReceiver } from '../../src/testing/otlp-receiver.js';
import { operationOf } from '../../src/tracing/db-spans.js';
import { startTracing, type TracingHandle } from '../../src/tracing/setup.js';
import {
  consumerSpanOptions,
  currentTraceparent,
  extractTraceContext,
  injectTraceContext,
  SpanKind,
  traceIdOf,
  tracingEnabled,
  withSpan,
} from '../../src/tracing/tracing.js';

const logger = createLogger('silent');
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('tracing helpers with tracing off', () => {
  it('run the function, inject nothing, and still read an incoming trace id', async () => {
    expect(tracingEnabled()).toBe(false);
    const seen = await withSpan('off', {}, async (span) => span.isRecording());
    expect(seen).toBe(false);
    expect(injectTraceContext({})).toEqual({});
    expect(currentTraceparent()).toBeUndefined();
    const ctx = extractTraceContext({
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    expect(traceIdOf(ctx)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf(extractTraceContext({ traceparent: 'nonsense' }))).toBeUndefined();
  });
});

describe('tracing over OTLP', () => {
  let receiver: OtlpReceiver;
  let tracing: TracingHandle | undefined;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(async () => {
    await tracing?.shutdown();
    await receiver?.close();
  });

  it('http/protobuf (the default) posts protobuf to <endpoint>/v1/traces', async () => {
    tracing = startTracing(
      { endpoint: receiver.url, protocol: 'http/protobuf', serviceName: 'kernel-test' },
      logger,
    );
    await withSpan('proto', {}, async () => undefined);
    await tracing.flush();
    await tracing.shutdown();
    tracing = undefined;
    expect(tracingEnabled()).toBe(false);
    expect(receiver.requests.length).toBeGreaterThan(0);
    expect(receiver.requests.every((r) => r.contentType === 'application/x-protobuf' && r.bytes > 0)).toBe(
      true,
    );
  });

  it('withSpan nests, propagates over a plain carrier, and marks failures (http/json)', async () => {
    tracing = startTracing(
      { endpoint: receiver.url, protocol: 'http/json', serviceName: 'kernel-test' },
      logger,
    );
    const carrier: Record<string, string> = {};
    await withSpan('outer', { 'test.case': 'nest' }, async () => {
      await withSpan('inner', {}, async () => {
        injectTraceContext(carrier);
      });
    });
    // The other side of a call: extract, then a SERVER span as the child.
    await withSpan('remote', {}, async () => undefined, {
      kind: SpanKind.SERVER,
      parent: extractTraceContext(carrier),
    });
    await expect(
      withSpan('broken', {}, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await tracing.flush();
    const byName = (name: string) => receiver.spans.find((s) => s.name === name);
    const outer = byName('outer');
    const inner = byName('inner');
    const remote = byName('remote');
    expect(outer?.attributes['test.case']).toBe('nest');
    expect(inner?.parentSpanId).toBe(outer?.spanId);
    expect(inner?.traceId).toBe(outer?.traceId);
    expect(carrier.traceparent).toMatch(TRACEPARENT);
    expect(remote?.traceId).toBe(outer?.traceId);
    expect(remote?.parentSpanId).toBe(inner?.spanId);
    expect(remote?.kind).toBe(OTLP_KIND.server);
    expect(byName('broken')?.status).toBe(2);
    expect(byName('outer')?.service).toBe('kernel-test');
  });

  it('a batch span links every producer and starts its own trace', async () => {
    const a = '00-11111111111111111111111111111111-1111111111111111-01';
    const b = '00-22222222222222222222222222222222-2222222222222222-01';
    await withSpan(
      'batch',
      {},
      async () => undefined,
      consumerSpanOptions([{ traceparent: a }, { traceparent: b }, {}]),
    );
    await withSpan('single', {}, async () => undefined, consumerSpanOptions([{ traceparent: a }]));
    await tracing?.flush();
    const batch = receiver.spans.find((s) => s.name === 'batch');
    expect(batch?.parentSpanId).toBe('');
    expect(batch?.links.map((l) => l.spanId).sort()).toEqual(['1111111111111111', '2222222222222222']);
    const single = receiver.spans.find((s) => s.name === 'single');
    expect(single?.traceId).toBe('11111111111111111111111111111111');
    expect(single?.parentSpanId).toBe('1111111111111111');
    expect(single?.kind).toBe(OTLP_KIND.consumer);
  });

  it('a gRPC sync call: CLIENT span around the call, SERVER span its child, handler work under it', async () => {
    const echoApi = defineSyncApi('echo', 1, {
      echo: {
        request: Type.Object({ text: Type.String() }),
        response: Type.Object({ text: Type.String() }),
        idempotent: true,
      },
    });
    const metrics = createMetricsRegistry();
    const server = createSyncServer({
      apis: [
        {
          definition: echoApi,
          handlers: {
            echo: ({ text }: { text: string }) => withSpan('echo work', {}, async () => ({ text })),
          },
        },
      ],
      logger,
      metrics,
    });
    const port = await server.listen('127.0.0.1', 0);
    const client = createSyncClient(echoApi, {
      url: `grpc://127.0.0.1:${port}`,
      caller: 'tracer',
      logger,
      metrics,
    });
    try {
      const answer = await withSpan('caller', {}, () => client.echo({ text: 'hi' }));
      expect(answer).toEqual({ text: 'hi' });
      await tracing?.flush();
      const caller = receiver.spans.find((s) => s.name === 'caller');
      const outgoing = receiver.spans.find((s) => s.name === 'echo/echo' && s.kind === OTLP_KIND.client);
      const incoming = receiver.spans.find((s) => s.name === 'echo/echo' && s.kind === OTLP_KIND.server);
      const work = receiver.spans.find((s) => s.name === 'echo work');
      expect(outgoing?.parentSpanId).toBe(caller?.spanId);
      expect(incoming?.parentSpanId).toBe(outgoing?.spanId);
      expect(incoming?.traceId).toBe(caller?.traceId);
      expect(incoming?.attributes['nova.caller']).toBe('tracer');
      expect(work?.parentSpanId).toBe(incoming?.spanId);
    } finally {
      client.close();
      await server.stop(Date.now() + 1000);
    }
  });
});

describe('statement names of SQL spans', () => {
  it('name a statement by its verb, and a WITH statement by its main statement', () => {
    expect(operationOf('select 1')).toBe('SELECT');
    expect(operationOf('/* nova */ insert into "social"."outbox" values ($1)')).toBe('INSERT');
    expect(
      operationOf(
        `WITH writer AS MATERIALIZED (SELECT pg_advisory_xact_lock_shared($1, hashtext($2)) AS locked, pg_notify($3, $4))
         INSERT INTO "social"."outbox" (id) SELECT e.id FROM writer, (VALUES ($5)) AS e(id)`,
      ),
    ).toBe('INSERT');
    expect(
      operationOf('with "a(" as (select \')\' as x), b as (delete from t returning *) update t set x = 1'),
    ).toBe('UPDATE');
    expect(
      operationOf('with recursive r(n) as (select 1 union all select n + 1 from r) select * from r'),
    ).toBe('SELECT');
    expect(operationOf('   ')).toBe('QUERY');
  });
});
