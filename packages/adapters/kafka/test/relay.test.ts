import {
  createHealthRegistry,
  createLogger,
  createMetricsRegistry,
  type Database,
  workerHealthCheck,
} from '@nova/kernel';
import { DATABASE_KINDS, openTestDatabases, type TestDatabases } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createKafkaEventLog, type KafkaEventLog, OutboxRelay, type OutboxTables } from '../src/index.js';
import { countRows, openKernelSchema, readTopic, waitFor, writeEvents } from './helpers.js';
import { kafkaBrokers, kafkaDisabled, uniqueSuffix } from './kafka-env.js';

const logger = createLogger('silent');

describe.skipIf(kafkaDisabled()).each(DATABASE_KINDS)('outbox relay on %s', (kind) => {
  let dbs: TestDatabases;
  let database: Database<unknown>;
  let log: KafkaEventLog;
  let metrics: ReturnType<typeof createMetricsRegistry>;

  beforeAll(async () => {
    dbs = await openTestDatabases(kind);
    database = await openKernelSchema(dbs.provider, `relay_${uniqueSuffix()}`, logger);
    metrics = createMetricsRegistry();
    log = createKafkaEventLog({
      config: {
        ...dbs.config,
        kafka: { brokers: [kafkaBrokers()], clientId: 'nova-test', outboxRelay: 'builtin' },
      },
      logger,
      metrics,
      validate: () => undefined,
      relay: { pollIntervalMs: 200, standbyPollMs: 200, batchSize: 100 },
    });
  });
  afterAll(async () => {
    await log?.close();
    await dbs?.close();
  });

  test('exactly one relay is active; a standby takes over; per-key order survives the hand-over', async () => {
    const aggregateType = `r${uniqueSuffix()}.item`;
    const topic = `nova.${aggregateType}.v1`;
    const a = log.relay(database) as OutboxRelay;
    const b = log.relay(database) as OutboxRelay;
    await a.start();
    await b.start();
    await waitFor('a leader', () => a.active || b.active);
    await writeEvents(database, aggregateType, 0, 300);
    await waitFor('outbox drained', async () => (await countRows(database, 'outbox')) === 0);
    expect([a.active, b.active].filter(Boolean)).toHaveLength(1);
    const [leader, standby] = a.active ? [a, b] : [b, a];
    await leader.stop(Date.now() + 5000);
    await waitFor('standby takes over', () => standby.active, 10_000);
    await writeEvents(database, aggregateType, 300, 200);
    await waitFor('outbox drained again', async () => (await countRows(database, 'outbox')) === 0);
    await standby.stop(Date.now() + 5000);

    const records = await readTopic(log, topic);
    expect(records).toHaveLength(500); // nothing published twice by two relays
    const byKey = new Map<string, number[]>();
    for (const r of records.sort((x, y) => Number(x.offset) - Number(y.offset))) {
      const list = byKey.get(r.key) ?? [];
      list.push((r.value as { n: number }).n);
      byKey.set(r.key, list);
    }
    for (const [, ns] of byKey) expect(ns).toEqual([...ns].sort((x, y) => x - y));
    const metricsText = await metrics.metrics();
    expect(metricsText).toMatch(
      new RegExp(`nova_outbox_published_total\\{service="${database.schema}"\\} 500`),
    );
    expect(metricsText).toMatch(new RegExp(`nova_outbox_backlog\\{service="${database.schema}"\\} 0`));
  });

  test('a relay that dies between the ack and the prune leaves the rows; the next one republishes them', async () => {
    const aggregateType = `r${uniqueSuffix()}.item`;
    const topic = `nova.${aggregateType}.v1`;
    await writeEvents(database, aggregateType, 0, 100);
    class Crash extends Error {}
    let crashes = 0;
    const dying = new OutboxRelay(
      database as unknown as Database<OutboxTables>,
      {
        producer: () => log.producer(),
        resetProducer: async () => undefined,
        topics: log.topics,
        logger,
        metrics,
      },
      {
        batchSize: 100,
        pollIntervalMs: 200,
        beforePrune: () => {
          crashes += 1;
          throw new Crash('killed between publish and prune');
        },
      },
    );
    await dying.start();
    await waitFor('publish then crash', () => crashes >= 1);
    await dying.stop(Date.now() + 2000);
    expect(await countRows(database, 'outbox')).toBe(100); // acknowledged but not pruned
    const relay = log.relay(database) as OutboxRelay;
    await relay.start();
    await waitFor('outbox drained', async () => (await countRows(database, 'outbox')) === 0);
    await relay.stop(Date.now() + 5000);
    const records = await readTopic(log, topic);
    const ids = new Set(records.map((r) => r.id));
    expect(ids.size).toBe(100);
    expect(records.length).toBeGreaterThanOrEqual(200); // each event at least twice: the duplicate consumers absorb
  });
  test('a gap of rolled-back seqs wider than a batch does not stall the relay (its read window starts at the next row)', async () => {
    const aggregateType = `r${uniqueSuffix()}.gap`;
    const topic = `nova.${aggregateType}.v1`;
    const relay = log.relay(database) as OutboxRelay;
    await writeEvents(database, aggregateType, 0, 20);
    // 250 seqs drawn and rolled back: more than the relay's batch of 100.
    class Rollback extends Error {}
    await expect(
      database.transaction(async (tx) => {
        await sql`select nextval(${`${database.schema}.outbox_seq_seq`}) from generate_series(1, 250)`.execute(
          tx,
        );
        throw new Rollback('rolled back');
      }),
    ).rejects.toBeInstanceOf(Rollback);
    await writeEvents(database, aggregateType, 20, 30);
    await relay.start();
    await waitFor('outbox drained across the gap', async () => (await countRows(database, 'outbox')) === 0);
    await relay.stop(Date.now() + 5000);
    const ns = (await readTopic(log, topic)).map((r) => (r.value as { n: number }).n).sort((a, b) => a - b);
    expect(ns).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
  test('is down, by name, when every round fails or a batch hangs; ok again once it relays', async () => {
    const aggregateType = `r${uniqueSuffix()}.health`;
    const deps = {
      producer: () => log.producer(),
      resetProducer: async () => undefined,
      topics: log.topics,
      logger,
      metrics,
    };
    await writeEvents(database, aggregateType, 0, 20);
    const outbox = database as unknown as Database<OutboxTables>;
    const failing = new OutboxRelay(outbox, deps, {
      pollIntervalMs: 100,
      failureLimit: 3,
      retry: { baseDelayMs: 20, maxDelayMs: 40 },
      beforePrune: () => {
        throw new Error('the broker took it but the prune keeps failing');
      },
    });
    const health = createHealthRegistry();
    health.register(workerHealthCheck(failing));
    const check = `worker:${failing.name}`;
    expect((await health.run()).checks[check]?.status).toBe('down'); // not started
    await failing.start();
    await waitFor('failing relay reported down', () => failing.health().status === 'down', 15_000);
    const report = await health.run();
    expect(report.status).toBe('down');
    expect(report.checks[check]?.error).toContain('consecutive rounds failed');
    await failing.stop(Date.now() + 2000);

    let release!: () => void;
    const hang = new Promise<void>((resolve) => {
      release = resolve;
    });
    const stuck = new OutboxRelay(outbox, deps, {
      pollIntervalMs: 100,
      stuckAfterMs: 300,
      beforePrune: () => hang,
    });
    await stuck.start();
    await waitFor('stuck relay reported down', () => stuck.health().status === 'down', 15_000);
    expect(stuck.health().reason).toMatch(/in flight for/);
    release();
    await waitFor('outbox drained', async () => (await countRows(database, 'outbox')) === 0);
    expect(stuck.health().status).toBe('ok');
    await stuck.stop(Date.now() + 5000);
  });
});
