import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createLogger,
  createMetricsRegistry,
  createOutboxWriter,
  type Database,
  runMigrations,
  type Worker,
} from '@nova/kernel';
import { openTestDatabases, type TestDatabases } from '@nova/kernel/testing';
import type { KafkaMessage } from 'kafkajs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createKafkaEventLog, type KafkaEventLog, OutboxRetentionJob } from '../src/index.js';
import { kafkaBrokers, kafkaDisabled, uniqueSuffix } from './kafka-env.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** The connector configuration exactly as docs/debezium.md shows it. */
function documentedConnectorConfig(): Record<string, string> {
  const doc = readFileSync(path.join(root, 'docs/debezium.md'), 'utf8');
  const block = /```json\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/debezium.md has no JSON connector block');
  return (JSON.parse(block) as { config: Record<string, string> }).config;
}

interface RawOutboxRow {
  id: string;
  aggregatetype: string;
  aggregateid: string;
  type: string;
  payload: unknown;
  epoch_us: string;
  traceparent: string | null;
}

/** Debezium's ZonedTimestamp text for a timestamptz given in µs since the epoch (ISO_OFFSET_DATE_TIME, UTC). */
function zonedTimestamp(epochMicros: bigint): string {
  const millis = epochMicros / 1000n;
  const base = new Date(Number(millis)).toISOString().slice(0, 19);
  const fraction = (epochMicros % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${base}${fraction ? `.${fraction}` : ''}Z`;
}

/**
 * What the Outbox Event Router emits for one outbox row, following its
 * documented options (route.by.field, route.topic.replacement,
 * table.field.event.*, table.fields.additional.placement, expand.json.payload)
 * with the converters of the documented config (String keys, schemaless JSON values).
 */
function eventRouterRecord(row: RawOutboxRow, connector: Record<string, string>) {
  const option = (name: string, fallback: string) => connector[`transforms.outbox.${name}`] ?? fallback;
  const column = (name: string): string | unknown => {
    if (name === 'timestamp') return zonedTimestamp(BigInt(row.epoch_us));
    return (row as unknown as Record<string, unknown>)[name];
  };
  const routedByValue = String(column(option('route.by.field', 'aggregatetype')));
  // Debezium's own placeholder syntax, not a template literal.
  const placeholder = ['$', '{routedByValue}'].join('');
  const topic = option('route.topic.replacement', `outbox.event.${placeholder}`).replace(
    placeholder,
    routedByValue,
  );
  const headers: Record<string, string> = { id: String(column(option('table.field.event.id', 'id'))) };
  for (const placement of option('table.fields.additional.placement', '').split(',').filter(Boolean)) {
    const [field, where, alias] = placement.split(':') as [string, string, string | undefined];
    const value = column(field);
    // The router adds a null column as a header with a null value; the relay
    // leaves it out. Consumers read both as "no trace context".
    if (where === 'header' && value !== null) headers[alias ?? field] = String(value);
  }
  expect(option('table.expand.json.payload', 'false')).toBe('true');
  expect(connector['key.converter']).toBe('org.apache.kafka.connect.storage.StringConverter');
  expect(connector['value.converter.schemas.enable']).toBe('false');
  return {
    topic,
    key: String(column(option('table.field.event.key', 'aggregateid'))),
    value: column(option('table.field.event.payload', 'payload')),
    timestamp: String(BigInt(row.epoch_us) / 1000n),
    headers,
  };
}

async function readOne(
  log: KafkaEventLog,
  topic: string,
  group: string,
): Promise<{ topic: string; message: KafkaMessage }> {
  await log.topics.ensure([topic]);
  const consumer = log.kafka.consumer({ groupId: group, sessionTimeout: 10_000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nothing arrived on ${topic}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ topic: from, message }) => {
          clearTimeout(timer);
          resolve({ topic: from, message });
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
}

describe.skipIf(kafkaDisabled())('Debezium Outbox Event Router compatibility', () => {
  let dbs: TestDatabases;
  let database: Database<unknown>;
  const schema = `dbz_${uniqueSuffix()}`;
  const logger = createLogger('silent');

  beforeAll(async () => {
    dbs = await openTestDatabases('postgres');
    database = await dbs.provider.open(schema);
    await runMigrations(database, path.join(root, 'no-service-migrations'), logger);
  });
  afterAll(async () => {
    await dbs?.close();
  });

  test('the outbox has the columns and types the EventRouter reads', async () => {
    const { rows } = await sql<{ column_name: string; data_type: string; is_nullable: string }>`
      select column_name, data_type, is_nullable from information_schema.columns
      where table_schema = ${schema} and table_name = 'outbox'`.execute(database.db);
    const columns = Object.fromEntries(rows.map((r) => [r.column_name, r]));
    const text = ['text', 'character varying'];
    expect(columns.id?.data_type).toBe('uuid');
    for (const name of ['aggregatetype', 'aggregateid', 'type']) {
      expect(text).toContain(columns[name]?.data_type);
      expect(columns[name]?.is_nullable).toBe('NO'); // routing and the key must never be null
    }
    expect(columns.payload?.data_type).toBe('jsonb'); // table.expand.json.payload needs JSON text
    expect(columns.timestamp?.data_type).toBe('timestamp with time zone'); // table.field.event.timestamp
    expect(columns.id?.is_nullable).toBe('NO');
  });

  test('the relay publishes the record the router would produce for the same row', async () => {
    const suffix = uniqueSuffix();
    const log = createKafkaEventLog({
      config: {
        ...dbs.config,
        kafka: { brokers: [kafkaBrokers()], clientId: 'nova-test', outboxRelay: 'builtin' },
      },
      logger,
      metrics: createMetricsRegistry(),
      validate: () => undefined,
    });
    const writer = createOutboxWriter(() => undefined);
    const aggregateType = `dbz${suffix}.order`;
    const payload = { orderId: 'o-1', lines: [{ sku: 'x', qty: 2 }], note: 'ünïcode ✓', total: 39.98 };
    await database.transaction((tx) =>
      writer.write(tx, [{ aggregateType, aggregateId: 'order-42', type: 'order.created', payload }]),
    );
    // As a traced writer leaves it (tracing is off in this test).
    await sql`update ${sql.id(schema, 'outbox')} set traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'`.execute(
      database.db,
    );
    const { rows } = await sql<RawOutboxRow>`
      select id, aggregatetype, aggregateid, type, payload, traceparent,
             (extract(epoch from "timestamp") * 1000000)::bigint::text as epoch_us
      from ${sql.id(schema, 'outbox')}`.execute(database.db);
    const row = rows[0] as RawOutboxRow;
    const expected = eventRouterRecord(row, documentedConnectorConfig());

    const relay = log.relay(database) as Worker;
    await relay.start();
    try {
      const { topic, message } = await readOne(log, expected.topic, `dbz.check.${suffix}`);
      const headers = Object.fromEntries(
        Object.entries(message.headers ?? {}).map(([k, v]) => [
          k,
          Buffer.isBuffer(v) ? v.toString('utf8') : String(v),
        ]),
      );
      expect({
        topic,
        key: message.key?.toString('utf8'),
        value: JSON.parse(message.value?.toString('utf8') ?? 'null'),
        timestamp: message.timestamp,
        headers,
      }).toEqual({
        ...expected,
        // The one header Debezium does not set: the outbox seq, the consumer's position (ADR 039).
        headers: { ...expected.headers, 'nova.seq': expect.stringMatching(/^[1-9][0-9]*$/) },
      });
      expect(topic).toBe(`nova.${aggregateType}.v1`);
      // Pruned only after the ack.
      await expect
        .poll(
          async () =>
            (
              await sql<{ n: number }>`select count(*)::int as n from ${sql.id(schema, 'outbox')}`.execute(
                database.db,
              )
            ).rows[0]?.n,
        )
        .toBe(0);
    } finally {
      await relay.stop(Date.now() + 5000);
      await log.close();
    }
  });

  test('NOVA_OUTBOX_RELAY=external leaves rows for Debezium and prunes them after retention', async () => {
    const log = createKafkaEventLog({
      config: {
        ...dbs.config,
        kafka: { brokers: [kafkaBrokers()], clientId: 'nova-test', outboxRelay: 'external' },
      },
      logger,
      metrics: createMetricsRegistry(),
      validate: () => undefined,
      retention: { retentionMs: 60_000, intervalMs: 60_000 },
    });
    const job = log.relay(database);
    expect(job).toBeInstanceOf(OutboxRetentionJob);
    const writer = createOutboxWriter(() => undefined);
    const outbox = sql.id(schema, 'outbox');
    await sql`delete from ${outbox}`.execute(database.db);
    await database.transaction((tx) =>
      writer.write(tx, [
        { aggregateType: 'dbz.old', aggregateId: 'a', type: 'x.old', payload: {} },
        { aggregateType: 'dbz.new', aggregateId: 'b', type: 'x.new', payload: {} },
      ]),
    );
    await sql`update ${outbox} set "timestamp" = now() - interval '2 minutes' where type = 'x.old'`.execute(
      database.db,
    );
    const pruned = await (job as OutboxRetentionJob).pruneOnce();
    expect(pruned).toBe(1);
    const { rows } = await sql<{ type: string }>`select type from ${outbox}`.execute(database.db);
    expect(rows.map((r) => r.type)).toEqual(['x.new']);
    await log.close();
  });
});
