import {
  createLogger,
  createMetricsRegistry,
  type Database,
  type EventConsumerSpec,
  type EventRecord,
  FatalError,
  type Worker,
} from '@nova/kernel';
import { openTestDatabases, type TestDatabases } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  createKafkaEventLog,
  DEAD_LETTER_HEADERS,
  type KafkaConsumerWorker,
  type KafkaEventLog,
  OutboxRelay,
  type OutboxTables,
} from '../src/index.js';
import { countRows, openKernelSchema, readTopic, sleep, waitFor, writeEvents } from './helpers.js';
import { kafkaBrokers, kafkaDisabled, uniqueSuffix } from './kafka-env.js';

const logger = createLogger(process.env.NOVA_TEST_LOG ?? 'silent');

interface Effects {
  effects: { event_id: string; key: string; n: number; member: string };
}

describe.skipIf(kafkaDisabled())('Kafka consumer groups', () => {
  let dbs: TestDatabases;
  let producerDb: Database<unknown>;
  let consumerDb: Database<Effects>;
  let log: KafkaEventLog;
  let relay: Worker;
  const workers: Worker[] = [];

  beforeAll(async () => {
    dbs = await openTestDatabases('postgres');
    const suffix = uniqueSuffix();
    producerDb = await openKernelSchema(dbs.provider, `kp_${suffix}`, logger);
    consumerDb = await openKernelSchema<Effects>(dbs.provider, `kc_${suffix}`, logger);
    await sql`create table ${sql.id(consumerDb.schema, 'effects')} (event_id uuid not null, key text not null, n int not null, member text not null)`.execute(
      consumerDb.db,
    );
    log = createKafkaEventLog({
      config: {
        ...dbs.config,
        kafka: { brokers: [kafkaBrokers()], clientId: 'nova-test', outboxRelay: 'builtin' },
      },
      logger,
      metrics: createMetricsRegistry(),
      validate: () => undefined,
      relay: { pollIntervalMs: 200, standbyPollMs: 500 },
      consumer: {
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 500,
        rebalanceTimeoutMs: 10_000,
        lagIntervalMs: 500,
      },
    });
    relay = log.relay(producerDb) as Worker;
    await relay.start();
  });
  afterAll(async () => {
    for (const worker of workers) await worker.stop(Date.now() + 5000).catch(() => undefined);
    await relay?.stop(Date.now() + 5000);
    await log?.close();
    await dbs?.close();
  });

  const write = (aggregateType: string, from: number, count: number, keys = 11) =>
    writeEvents(producerDb, aggregateType, from, count, { keys, batch: 100 });

  function consumer(
    group: string,
    topic: string,
    member: string,
    handle?: (event: EventRecord) => Promise<void> | void,
    extra: Partial<EventConsumerSpec<Effects>> = {},
  ): KafkaConsumerWorker<Effects> {
    const worker = log.consumer<Effects>({
      group,
      topics: [topic],
      database: consumerDb,
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50 },
      ...extra,
      async handle(event, ctx) {
        await handle?.(event);
        await ctx.tx
          .insertInto('effects')
          .values({ event_id: event.id, key: event.key, n: (event.payload as { n: number }).n, member })
          .execute();
      },
    }) as KafkaConsumerWorker<Effects>;
    workers.push(worker);
    return worker;
  }

  async function effects(member?: string) {
    let query = consumerDb.db.selectFrom('effects').select(['event_id', 'key', 'n', 'member']);
    if (member) query = query.where('member', '=', member);
    return query.execute();
  }

  async function expectExactlyOnce(count: number, prefix: string): Promise<void> {
    const rows = (await effects()).filter((r) => r.member.startsWith(prefix));
    expect(rows).toHaveLength(count);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(count);
    expect(new Set(rows.map((r) => r.n)).size).toBe(count);
  }

  test('every event once, per-key order kept, offsets committed (lag 0)', async () => {
    const s = uniqueSuffix();
    const aggregateType = `c${s}.item`;
    const topic = `nova.${aggregateType}.v1`;
    const seen = new Map<string, number[]>();
    const worker = consumer(`t.basic.${s}`, topic, `basic${s}`, (event) => {
      const list = seen.get(event.key) ?? [];
      list.push((event.payload as { n: number }).n);
      seen.set(event.key, list);
    });
    await worker.start();
    await write(aggregateType, 0, 1000);
    await waitFor('1000 effects', async () => (await effects(`basic${s}`)).length >= 1000);
    await expectExactlyOnce(1000, `basic${s}`);
    for (const [, ns] of seen) expect(ns).toEqual([...ns].sort((a, b) => a - b));
    await waitFor('lag 0', async () => (await worker.refreshLag()) === 0, 20_000);
    const text = await log.admin().then(() => worker.health());
    expect(text.status).toBe('ok');
    await worker.stop(Date.now() + 10_000);
  });

  test('two members of one group split the partitions and together see every event exactly once', async () => {
    const s = uniqueSuffix();
    const aggregateType = `c${s}.item`;
    const topic = `nova.${aggregateType}.v1`;
    const group = `t.shared.${s}`;
    const a = consumer(group, topic, `shared${s}.a`);
    const b = consumer(group, topic, `shared${s}.b`);
    await a.start();
    await b.start();
    await waitFor(
      'both members assigned',
      () =>
        (a.assignment[topic]?.length ?? 0) > 0 &&
        (b.assignment[topic]?.length ?? 0) > 0 &&
        [...(a.assignment[topic] ?? []), ...(b.assignment[topic] ?? [])].length === 3,
      30_000,
    );
    const partsA = a.assignment[topic] ?? [];
    const partsB = b.assignment[topic] ?? [];
    expect([...partsA, ...partsB].sort()).toEqual([0, 1, 2]);
    await write(aggregateType, 0, 900, 60);
    await waitFor(
      '900 effects',
      async () => (await effects()).filter((r) => r.member.startsWith(`shared${s}`)).length >= 900,
    );
    await sleep(500);
    await expectExactlyOnce(900, `shared${s}`);
    expect((await effects(`shared${s}.a`)).length).toBeGreaterThan(0);
    expect((await effects(`shared${s}.b`)).length).toBeGreaterThan(0);
    // A key is consumed by one member only: its partition's owner.
    const owners = new Map<string, Set<string>>();
    for (const row of (await effects()).filter((r) => r.member.startsWith(`shared${s}`))) {
      const set = owners.get(row.key) ?? new Set();
      set.add(row.member);
      owners.set(row.key, set);
    }
    for (const [, members] of owners) expect(members.size).toBe(1);
    await a.stop(Date.now() + 10_000);
    await b.stop(Date.now() + 10_000);
  });

  test('fatal failures go to nova.dlq.<group> with reason headers, are recorded, and are not redelivered', async () => {
    const s = uniqueSuffix();
    const aggregateType = `c${s}.item`;
    const topic = `nova.${aggregateType}.v1`;
    const group = `t.dlq.${s}`;
    class PoisonError extends FatalError {
      override name = 'PoisonError';
    }
    let calls = 0;
    const poisoned = (event: EventRecord) => (event.payload as { n: number }).n % 10 === 3;
    const handler = (event: EventRecord) => {
      if (poisoned(event)) {
        calls += 1;
        throw new PoisonError(`cannot handle n=${(event.payload as { n: number }).n}`);
      }
    };
    const worker = consumer(group, topic, `dlq${s}`, handler);
    await worker.start();
    await write(aggregateType, 0, 50);
    await waitFor('45 effects', async () => (await effects(`dlq${s}`)).length >= 45);
    await waitFor('5 dead letters recorded', async () => {
      const { rows } = await sql<{
        n: number;
      }>`select count(*)::int as n from ${sql.id(consumerDb.schema, 'dead_letters')} where group_id = ${group}`.execute(
        consumerDb.db,
      );
      return rows[0]?.n === 5;
    });
    expect(calls).toBe(5); // fatal: one attempt each, no retries
    const letters = await readTopic(log, `nova.dlq.${group}`);
    expect(letters).toHaveLength(5);
    const original = await readTopic(log, topic);
    for (const letter of letters) {
      expect(letter.headers[DEAD_LETTER_HEADERS.reason]).toMatch(/PoisonError: cannot handle n=\d*3/);
      expect(letter.headers[DEAD_LETTER_HEADERS.attempts]).toBe('1');
      expect(letter.headers[DEAD_LETTER_HEADERS.group]).toBe(group);
      expect(letter.headers[DEAD_LETTER_HEADERS.topic]).toBe(topic);
      const source = original.find((r) => r.id === letter.id);
      expect(source).toBeDefined();
      expect(letter.headers[DEAD_LETTER_HEADERS.partition]).toBe(String(source?.partition));
      expect(letter.headers[DEAD_LETTER_HEADERS.offset]).toBe(source?.offset);
      expect(letter.key).toBe(source?.key);
      expect(letter.value).toEqual(source?.value);
      expect(letter.type).toBe('item.made');
    }
    await worker.stop(Date.now() + 10_000);
    // A new member of the group starts from the committed offsets: nothing is redelivered.
    const again = consumer(group, topic, `dlq${s}`, handler);
    await again.start();
    await write(aggregateType, 50, 10);
    await waitFor('54 effects', async () => (await effects(`dlq${s}`)).length >= 54);
    await sleep(500);
    expect(calls).toBe(6);
    await expectExactlyOnce(54, `dlq${s}`);
    await again.stop(Date.now() + 10_000);
  });

  test('transient failures are retried with backoff, then processed once', async () => {
    const s = uniqueSuffix();
    const aggregateType = `c${s}.item`;
    const topic = `nova.${aggregateType}.v1`;
    const attempts = new Map<string, number>();
    const worker = consumer(`t.retry.${s}`, topic, `retry${s}`, (event) => {
      const n = (attempts.get(event.id) ?? 0) + 1;
      attempts.set(event.id, n);
      if (n < 3) throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
    });
    await worker.start();
    await write(aggregateType, 0, 20);
    await waitFor('20 effects', async () => (await effects(`retry${s}`)).length >= 20);
    await expectExactlyOnce(20, `retry${s}`);
    expect([...attempts.values()].every((n) => n === 3)).toBe(true);
    await worker.stop(Date.now() + 10_000);
  });

  test('backpressure: in-flight stays within the bound, fetching pauses and resumes', async () => {
    const s = uniqueSuffix();
    const aggregateType = `c${s}.item`;
    const topic = `nova.${aggregateType}.v1`;
    let running = 0;
    let maxRunning = 0;
    await write(aggregateType, 0, 400, 400);
    const worker = consumer(
      `t.bp.${s}`,
      topic,
      `bp${s}`,
      async () => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await sleep(5);
        running -= 1;
      },
      { concurrency: 4 },
    );
    expect(worker.maxInFlight).toBe(4);
    await worker.start();
    await waitFor('400 effects', async () => (await effects(`bp${s}`)).length >= 400);
    await expectExactlyOnce(400, `bp${s}`);
    expect(worker.maxInFlightSeen).toBeLessThanOrEqual(4);
    expect(worker.maxInFlightSeen).toBeGreaterThan(1); // distinct keys did run in parallel
    expect(maxRunning).toBeLessThanOrEqual(4);
    expect(worker.pauses).toBeGreaterThan(0);
    expect(worker.health().detail?.paused).toBe(false);
    await worker.stop(Date.now() + 10_000);
  });

  test('a relay killed between publish and prune: the duplicates are absorbed, each effect applied once', async () => {
    const s = uniqueSuffix();
    const aggregateType = `c${s}.item`;
    const topic = `nova.${aggregateType}.v1`;
    // The shared relay must not drain this outbox first.
    await relay.stop(Date.now() + 5000);
    await write(aggregateType, 0, 200);
    class Crash extends Error {}
    let crashed = false;
    const dying = new OutboxRelay(
      producerDb as unknown as Database<OutboxTables>,
      {
        producer: () => log.producer(),
        resetProducer: async () => undefined,
        topics: log.topics,
        logger,
        metrics: createMetricsRegistry(),
      },
      {
        batchSize: 200,
        beforePrune: () => {
          crashed = true;
          throw new Crash('killed between publish and prune');
        },
      },
    );
    await dying.start();
    await waitFor('published, then crashed', () => crashed);
    await dying.stop(Date.now() + 2000);
    expect(await countRows(producerDb, 'outbox')).toBe(200);
    await relay.start();
    await waitFor('outbox drained', async () => (await countRows(producerDb, 'outbox')) === 0);
    const worker = consumer(`t.dup.${s}`, topic, `dup${s}`);
    await worker.start();
    await waitFor('200 effects', async () => (await effects(`dup${s}`)).length >= 200);
    await waitFor('lag 0', async () => (await worker.refreshLag()) === 0, 20_000);
    expect((await readTopic(log, topic)).length).toBeGreaterThanOrEqual(400);
    await expectExactlyOnce(200, `dup${s}`);
    await worker.stop(Date.now() + 10_000);
  });

  test('a batch consumer absorbs the duplicates of a killed relay by outbox seq, with no processed-event rows (ADR 039)', async () => {
    const s = uniqueSuffix();
    const aggregateType = `c${s}.item`;
    const topic = `nova.${aggregateType}.v1`;
    await relay.stop(Date.now() + 5000);
    await write(aggregateType, 0, 300);
    class Crash extends Error {}
    let crashed = false;
    const dying = new OutboxRelay(
      producerDb as unknown as Database<OutboxTables>,
      {
        producer: () => log.producer(),
        resetProducer: async () => undefined,
        topics: log.topics,
        logger,
        metrics: createMetricsRegistry(),
      },
      {
        batchSize: 150,
        beforePrune: () => {
          crashed = true;
          throw new Crash('killed between publish and prune');
        },
      },
    );
    await dying.start();
    await waitFor('published, then crashed', () => crashed);
    await dying.stop(Date.now() + 2000);
    await relay.start();
    await waitFor('outbox drained', async () => (await countRows(producerDb, 'outbox')) === 0);
    const group = `t.bdup.${s}`;
    const member = `bdup${s}`;
    const worker = log.consumer<Effects>({
      group,
      topics: [topic],
      database: consumerDb,
      batch: { maxEvents: 64, maxWaitMs: 20, inFlight: 4 },
      async handleBatch(events, { tx }) {
        await tx
          .insertInto('effects')
          .values(
            events.map((e) => ({ event_id: e.id, key: e.key, n: (e.payload as { n: number }).n, member })),
          )
          .execute();
      },
    }) as KafkaConsumerWorker<Effects>;
    workers.push(worker);
    await worker.start();
    await waitFor('300 effects', async () => (await effects(member)).length >= 300);
    await waitFor('lag 0', async () => (await worker.refreshLag()) === 0, 20_000);
    // The first 150 at least were published twice.
    expect((await readTopic(log, topic)).length).toBeGreaterThanOrEqual(450);
    await expectExactlyOnce(300, member);
    const marked = await sql<{ n: number }>`
      select count(*)::int as n from ${sql.id(consumerDb.schema, 'processed_events')} where group_id = ${group}`.execute(
      consumerDb.db,
    );
    expect(marked.rows[0]?.n).toBe(0);
    await worker.stop(Date.now() + 10_000);
  });
});
