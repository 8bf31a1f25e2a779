import path from 'node:path';
import {
  createLogger,
  createMetricsRegistry,
  createOutboxWriter,
  type Database,
  type EventRecord,
  runMigrations,
  startTracing,
  type TracingHandle,
  withSpan,
} from '@nova/kernel';
import {
  OTLP_KIND,
  type OtlpReceiver,
  openTestDatabases,
  startOtlpReceiver,
  type TestDatabases,
} from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaEventLog } from '../src/index.js';
import { repoRoot as root } from './helpers.js';
import { kafkaBrokers, kafkaDisabled, uniqueSuffix } from './kafka-env.js';

const logger = createLogger('silent');

// The trace context of an outbox write travels through the relay and Kafka headers to the consumer span.
describe.skipIf(kafkaDisabled())('tracing through Kafka', () => {
  let receiver: OtlpReceiver;
  let tracing: TracingHandle | undefined;
  let dbs: TestDatabases;
  let database: Database<unknown>;
  const schema = `trc_${uniqueSuffix()}`;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    tracing = startTracing(
      { endpoint: receiver.url, protocol: 'http/json', serviceName: 'kafka-test' },
      logger,
    );
    dbs = await openTestDatabases('postgres');
    database = await dbs.provider.open(schema);
    await runMigrations(database, path.join(root, 'no-service-migrations'), logger);
  });
  afterAll(async () => {
    await tracing?.shutdown();
    await receiver?.close();
    await dbs?.close();
  });

  it('outbox traceparent → relay → Kafka header → consumer span, child of the outbox write', async () => {
    const log = createKafkaEventLog({
      config: {
        ...dbs.config,
        kafka: { brokers: [kafkaBrokers()], clientId: 'nova-test', outboxRelay: 'builtin' },
      },
      logger,
      metrics: createMetricsRegistry(),
      validate: () => undefined,
    });
    const aggregateType = `${schema}.thing`;
    const received: EventRecord[] = [];
    const relay = log.relay(database);
    const consumer = log.consumer({
      group: `${schema}.tracer`,
      topics: [`nova.${aggregateType}.v1`],
      database,
      async handle(event) {
        received.push(event);
      },
    });
    await relay?.start();
    await consumer.start();
    try {
      const writer = createOutboxWriter(() => undefined);
      await withSpan('request', {}, () =>
        database.transaction((tx) =>
          writer.write(tx, [{ aggregateType, aggregateId: 'k1', type: 'thing.made', payload: { n: 1 } }]),
        ),
      );
      await expect.poll(() => received.length, { timeout: 30_000 }).toBe(1);
      await tracing?.flush();
      const outbox = receiver.spans.find((s) => s.name === `outbox write ${schema}`);
      expect(outbox?.kind).toBe(OTLP_KIND.producer);
      expect(received[0]?.traceparent).toBe(`00-${outbox?.traceId}-${outbox?.spanId}-01`);
      await expect
        .poll(() => receiver.spans.some((s) => s.name === `nova.${aggregateType}.v1 process`), {
          timeout: 10_000,
        })
        .toBe(true);
      const processed = receiver.spans.find((s) => s.name === `nova.${aggregateType}.v1 process`);
      expect(processed?.kind).toBe(OTLP_KIND.consumer);
      expect(processed?.traceId).toBe(outbox?.traceId);
      expect(processed?.parentSpanId).toBe(outbox?.spanId);
      expect(processed?.links.map((l) => l.spanId)).toEqual([outbox?.spanId]);
      const request = receiver.spans.find((s) => s.name === 'request');
      expect(outbox?.parentSpanId).toBe(request?.spanId);
    } finally {
      const deadline = Date.now() + 5000;
      await consumer.stop(deadline);
      await relay?.stop(deadline);
      await log.close();
    }
  });
});
