import { randomBytes } from 'node:crypto';
import {
  ancestorsOf,
  OTLP_KIND,
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCluster, startCluster } from './cluster.js';
import { signUp } from './harness.js';

/**
 * One request through the split topology (scripts/cluster.sh: the gateway
 * and one process per service, each its own database, events over Kafka),
 * every process exporting OTLP/HTTP JSON to a receiver inside this test. A
 * follow enters at the gateway, is served by social, whose outbox event
 * reaches notifications' consumer: all of it must arrive as ONE trace, each
 * span under the one before, each from the process that did the work.
 */
const SERVICE = 'nova-gwtrace';

describe('a trace through gateway → service → event → consumer (split topology)', () => {
  let receiver: OtlpReceiver;
  let cluster: RunningCluster;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    cluster = await startCluster('gwtrace', {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: SERVICE,
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_TIME_COST: '1',
      REGISTER_MAX_PER_IP: '1000000',
      LOG_LEVEL: 'info',
    });
  }, 900_000);
  afterAll(async () => {
    await cluster?.down();
    await receiver?.close();
  }, 120_000);

  it('a follow: gateway server span → social server span → outbox write → notifications consumer, one trace', async () => {
    const run = randomBytes(3).toString('hex');
    const urlFor = (path: string) => `${cluster.publicUrl}${path}`;
    const ada = await signUp(urlFor, `gt_ada_${run}`, 120_000);
    const bo = await signUp(urlFor, `gt_bo_${run}`, 120_000);

    // The client starts the trace, so the test knows its id.
    const traceId = randomBytes(16).toString('hex');
    const clientSpan = randomBytes(8).toString('hex');
    const followed = await fetch(urlFor(`/api/v1/users/${bo.id}/follow`), {
      method: 'POST',
      headers: { authorization: `Bearer ${ada.token}`, traceparent: `00-${traceId}-${clientSpan}-01` },
    });
    expect(followed.status).toBe(200);

    const spans = () => receiver.spans.filter((s) => s.traceId === traceId);
    const from = (process: string) => (s: ReceivedSpan) => s.service === `${SERVICE}-${process}`;
    const consumerIn = (process: string) => (s: ReceivedSpan) =>
      from(process)(s) && s.kind === OTLP_KIND.consumer && s.name === 'nova.social.follow.v1 process';
    // Spans are exported as they end, by four processes: wait until the consumer's whole chain up to
    // the client's span is in (a child may arrive before its parent).
    const chainComplete = (span: ReceivedSpan, all: ReceivedSpan[]) =>
      ancestorsOf(span, all).at(-1)?.parentSpanId === clientSpan;
    await expect
      .poll(
        () => {
          const all = spans();
          return all.some((s) => consumerIn('notifications')(s) && chainComplete(s, all));
        },
        { timeout: 60_000, interval: 250 },
      )
      .toBe(true);

    const trace = spans();
    const edge = trace.find((s) => from('gateway')(s) && s.kind === OTLP_KIND.server) as ReceivedSpan;
    expect(edge.parentSpanId).toBe(clientSpan);
    expect(edge.attributes['url.path']).toBe(`/api/v1/users/${bo.id}/follow`);
    expect(edge.attributes['http.response.status_code']).toBe(200);

    // The gateway's proxy carries the trace context: social's server span continues the edge's.
    const served = trace.find((s) => from('social')(s) && s.kind === OTLP_KIND.server) as ReceivedSpan;
    expect(served.name).toBe('POST /api/v1/users/:id/follow');
    expect(ancestorsOf(served, trace)).toContainEqual(edge);

    const outbox = trace.find((s) => from('social')(s) && s.kind === OTLP_KIND.producer) as ReceivedSpan;
    expect(outbox.name).toBe('outbox write social');
    expect(String(outbox.attributes['nova.event.types'])).toContain('follow.created');
    expect(ancestorsOf(outbox, trace)).toContainEqual(served);

    // Across Kafka: the consumer in notifications' own process is the outbox write's child.
    const consumer = trace.find(consumerIn('notifications')) as ReceivedSpan;
    expect(String(consumer.attributes['messaging.consumer.group.name'])).toMatch(/^notifications\./);
    expect(consumer.parentSpanId).toBe(outbox.spanId);
    const consumerSql = trace.filter(
      (s) => s.parentSpanId === consumer.spanId && s.kind === OTLP_KIND.client,
    );
    expect(consumerSql.some((s) => String(s.attributes['db.query.text']).includes('processed_events'))).toBe(
      true,
    );
  }, 180_000);
});
