import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createKafkaEventLog } from '@nova/kafka';
import {
  type Config,
  createEventLog,
  createLogger,
  createMetricsRegistry,
  createOutboxWriter,
  type Database,
  type EventLog,
  runMigrations,
  topicFor,
  type Worker,
} from '@nova/kernel';
import { openTestDatabases } from '@nova/kernel/testing';
import { type Generated, sql } from 'kysely';
import { type BenchReport, machine, median, pairedRatio, type Series } from '../lib/report.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const TX_SIZE = Number(process.env.BENCH_TX_SIZE ?? 100);
const KEYS = 1000;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Effects {
  bench_effects: { n: number; at: Generated<Date> };
}

interface RoundResult {
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/**
 * One round: EVENTS events written in transactions of TX_SIZE to a fresh
 * producer schema on PostgreSQL while one consumer group applies each as an
 * effect row in its own schema. Lag = effect row time (clock_timestamp()
 * inside the consumer's transaction, just before its commit) − the commit
 * time of the outbox transaction that wrote the event. Throughput = events /
 * (last effect − first outbox commit).
 */
async function round(
  config: Config,
  provider: Awaited<ReturnType<typeof openTestDatabases>>['provider'],
  tag: string,
): Promise<RoundResult> {
  const logger = createLogger('warn');
  const producer = await provider.open<unknown>(`bp_${tag}`);
  const consumer = await provider.open<Effects>(`bc_${tag}`);
  await runMigrations(producer, path.join(root, 'no-migrations'), logger);
  await runMigrations(consumer, path.join(root, 'no-migrations'), logger);
  await sql`create table ${sql.id(consumer.schema, 'bench_effects')} (n int primary key, at timestamptz not null default clock_timestamp())`.execute(
    consumer.db,
  );
  const log: EventLog = createEventLog({
    config,
    provider,
    logger,
    metrics: createMetricsRegistry(),
    validate: () => undefined,
    kafka: createKafkaEventLog,
  });
  const aggregateType = `${producer.schema}.item`;
  const workers = [
    log.relay(producer),
    log.consumer<Effects>({
      group: `bench.${tag}`,
      topics: [topicFor(aggregateType)],
      database: consumer as Database<Effects>,
      async handle(event, { tx }) {
        await tx
          .insertInto('bench_effects')
          .values({ n: (event.payload as { n: number }).n })
          .execute();
      },
    }),
  ].filter((w) => w !== null);
  for (const worker of workers) await worker.start();
  const writer = createOutboxWriter(() => undefined);
  const committedAt = new Float64Array(EVENTS / TX_SIZE);
  const first = Date.now();
  for (let t = 0; t < EVENTS / TX_SIZE; t++) {
    await producer.transaction((tx) =>
      writer.write(
        tx,
        Array.from({ length: TX_SIZE }, (_, i) => {
          const n = t * TX_SIZE + i;
          return { aggregateType, aggregateId: `k${n % KEYS}`, type: 'bench.item', payload: { n } };
        }),
      ),
    );
    committedAt[t] = Date.now();
  }
  const deadline = Date.now() + 600_000;
  for (;;) {
    const { rows } = await sql<{
      c: number;
    }>`select count(*)::int as c from ${sql.id(consumer.schema, 'bench_effects')}`.execute(consumer.db);
    if ((rows[0]?.c ?? 0) >= EVENTS) break;
    if (Date.now() > deadline) throw new Error(`round ${tag}: only ${rows[0]?.c} of ${EVENTS} effects`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const stopAt = Date.now() + 10_000;
  for (const worker of workers) await worker.stop(stopAt);
  await log.close();
  const { rows } = await sql<{ n: number; ms: number }>`
    select n, (extract(epoch from at) * 1000)::float8 as ms from ${sql.id(consumer.schema, 'bench_effects')}`.execute(
    consumer.db,
  );
  const lags = rows
    .map((r) => r.ms - (committedAt[Math.floor(r.n / TX_SIZE)] ?? Number.NaN))
    .sort((a, b) => a - b);
  const last = Math.max(...rows.map((r) => r.ms));
  return {
    eventsPerSecond: EVENTS / ((last - first) / 1000),
    p50Ms: percentile(lags, 50),
    p99Ms: percentile(lags, 99),
  };
}

const BATCH_EVENTS = Number(process.env.BENCH_BATCH_EVENTS ?? 100_000);
const BATCH_MAX = Number(process.env.BENCH_BATCH_MAX ?? 1000);
const BATCH_WAIT_MS = Number(process.env.BENCH_BATCH_WAIT_MS ?? 20);
const LATENCY_SECONDS = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
const MODES = new Set((process.env.BENCH_EVENTS_MODES ?? 'per-event,batch').split(','));

interface BatchSetup {
  log: EventLog;
  producer: Database<unknown>;
  consumer: Database<Effects>;
  aggregateType: string;
  relay: Worker | null;
  consumerWorker: Worker;
}

/** Fresh schemas, an effects table and a batch consumer whose handler writes a batch's effects in one statement. */
async function batchSetup(
  config: Config,
  provider: Awaited<ReturnType<typeof openTestDatabases>>['provider'],
  tag: string,
): Promise<BatchSetup> {
  const logger = createLogger('warn');
  const producer = await provider.open<unknown>(`bbp_${tag}`);
  const consumer = await provider.open<Effects>(`bbc_${tag}`);
  await runMigrations(producer, path.join(root, 'no-migrations'), logger);
  await runMigrations(consumer, path.join(root, 'no-migrations'), logger);
  const effects = sql.id(consumer.schema, 'bench_effects');
  await sql`create table ${effects} (n int primary key, at timestamptz not null default clock_timestamp())`.execute(
    consumer.db,
  );
  const log = createEventLog({
    config,
    provider,
    logger,
    metrics: createMetricsRegistry(),
    validate: () => undefined,
    kafka: createKafkaEventLog,
  });
  const aggregateType = `${producer.schema}.item`;
  const consumerWorker = log.consumer<Effects>({
    group: `bench.${tag}`,
    topics: [topicFor(aggregateType)],
    database: consumer as Database<Effects>,
    batch: { maxEvents: BATCH_MAX, maxWaitMs: BATCH_WAIT_MS },
    async handleBatch(events, { tx }) {
      const ns = events.map((e) => (e.payload as { n: number }).n);
      await sql`insert into ${effects} (n) select unnest(${ns}::int[])`.execute(tx);
    },
  });
  return {
    log,
    producer,
    consumer: consumer as Database<Effects>,
    aggregateType,
    relay: log.relay(producer),
    consumerWorker,
  };
}

async function writeEvents(setup: BatchSetup, from: number, count: number, txSize: number): Promise<void> {
  const writer = createOutboxWriter(() => undefined);
  for (let t = from; t < from + count; t += txSize) {
    await setup.producer.transaction((tx) =>
      writer.write(
        tx,
        Array.from({ length: Math.min(txSize, from + count - t) }, (_, i) => ({
          aggregateType: setup.aggregateType,
          aggregateId: `k${(t + i) % KEYS}`,
          type: 'bench.item',
          payload: { n: t + i },
        })),
      ),
    );
  }
}

async function effectCount(consumer: Database<Effects>): Promise<number> {
  const { rows } = await sql<{
    c: number;
  }>`select count(*)::int as c from ${sql.id(consumer.schema, 'bench_effects')}`.execute(consumer.db);
  return rows[0]?.c ?? 0;
}

async function waitForEffects(consumer: Database<Effects>, count: number, tag: string): Promise<void> {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const c = await effectCount(consumer);
    if (c >= count) return;
    if (Date.now() > deadline) throw new Error(`${tag}: only ${c} of ${count} effects`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopSetup(setup: BatchSetup): Promise<void> {
  const stopAt = Date.now() + 10_000;
  await setup.consumerWorker.stop(stopAt);
  await setup.relay?.stop(stopAt);
  await setup.log.close();
}

/**
 * Saturation: BATCH_EVENTS events wait in the log (on Kafka: published by
 * the relay first) before the batch consumer starts; events/s from its
 * first effect to its last, so the group join is not counted.
 */
async function batchSaturation(
  config: Config,
  provider: Awaited<ReturnType<typeof openTestDatabases>>['provider'],
  tag: string,
): Promise<{ eventsPerSecond: number; relayPerSecond: number }> {
  const setup = await batchSetup(config, provider, tag);
  await writeEvents(setup, 0, BATCH_EVENTS, 1000);
  process.stderr.write(`${tag}: ${BATCH_EVENTS} events written\n`);
  let relayPerSecond = Number.NaN;
  if (setup.relay && setup.log.kind === 'kafka') {
    const started = Date.now();
    await setup.relay.start();
    const outbox = sql.id(setup.producer.schema, 'outbox');
    for (;;) {
      const { rows } = await sql<{ c: number }>`select count(*)::int as c from ${outbox}`.execute(
        setup.producer.db,
      );
      if ((rows[0]?.c ?? 1) === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    relayPerSecond = BATCH_EVENTS / ((Date.now() - started) / 1000);
  }
  await setup.consumerWorker.start();
  await waitForEffects(setup.consumer, BATCH_EVENTS, tag);
  await stopSetup(setup);
  const { rows } = await sql<{ first: number; last: number }>`
    select (extract(epoch from min(at)) * 1000)::float8 as first, (extract(epoch from max(at)) * 1000)::float8 as last
    from ${sql.id(setup.consumer.schema, 'bench_effects')}`.execute(setup.consumer.db);
  const { first = 0, last = 0 } = rows[0] ?? {};
  return { eventsPerSecond: BATCH_EVENTS / ((last - first) / 1000), relayPerSecond };
}

/**
 * Latency at a given load: transactions of TX_SIZE events written at `rate`
 * events/s for LATENCY_SECONDS while relay and consumer run; lag = effect
 * time − commit time of the event's outbox transaction.
 */
async function batchLatency(
  config: Config,
  provider: Awaited<ReturnType<typeof openTestDatabases>>['provider'],
  tag: string,
  rate: number,
): Promise<RoundResult> {
  const setup = await batchSetup(config, provider, tag);
  await setup.relay?.start();
  await setup.consumerWorker.start();
  // One event through the whole path first: the group has joined and the topic exists.
  const probe = 1_000_000_000;
  const writer = createOutboxWriter(() => undefined);
  await setup.producer.transaction((tx) =>
    writer.write(tx, [
      { aggregateType: setup.aggregateType, aggregateId: 'probe', type: 'bench.item', payload: { n: probe } },
    ]),
  );
  await waitForEffects(setup.consumer, 1, tag);
  const total = Math.round(rate * LATENCY_SECONDS);
  const transactions = Math.ceil(total / TX_SIZE);
  const committedAt = new Float64Array(transactions);
  const intervalMs = (TX_SIZE / rate) * 1000;
  const start = Date.now();
  for (let t = 0; t < transactions; t++) {
    const due = start + t * intervalMs;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await writeEvents(setup, t * TX_SIZE, Math.min(TX_SIZE, total - t * TX_SIZE), TX_SIZE);
    committedAt[t] = Date.now();
  }
  const writeSeconds = (Date.now() - start) / 1000;
  await waitForEffects(setup.consumer, total + 1, tag);
  await stopSetup(setup);
  const { rows } = await sql<{ n: number; ms: number }>`
    select n, (extract(epoch from at) * 1000)::float8 as ms from ${sql.id(setup.consumer.schema, 'bench_effects')}
    where n < ${probe}`.execute(setup.consumer.db);
  const lags = rows
    .map((r) => r.ms - (committedAt[Math.floor(r.n / TX_SIZE)] ?? Number.NaN))
    .sort((a, b) => a - b);
  return { eventsPerSecond: total / writeSeconds, p50Ms: percentile(lags, 50), p99Ms: percentile(lags, 99) };
}

export async function runEventsBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const { stdout } = await promisify(execFile)(path.join(root, 'scripts/kafka.sh'), ['start'], {
    timeout: 600_000,
  });
  const brokers = stdout.trim().split('\n').at(-1) ?? '127.0.0.1:9092';
  const dbs = await openTestDatabases('postgres');
  const embeddedConfig: Config = { ...dbs.config, kafka: undefined };
  const kafkaConfig: Config = {
    ...dbs.config,
    kafka: { brokers: [brokers], clientId: 'nova-bench', outboxRelay: 'builtin' },
  };
  const kinds = [
    { name: 'kafka', label: 'outbox → relay → Kafka (3 partitions) → consumer group', config: kafkaConfig },
    { name: 'embedded', label: 'outbox tables read by seq', config: embeddedConfig },
  ];
  const only = process.env.BENCH_EVENTS_LOGS?.split(',');
  if (only) kinds.splice(0, kinds.length, ...kinds.filter((k) => only.includes(k.name)));
  const named = (kind: (typeof kinds)[number], what: string): Series => ({
    name: `${kind.name} ${what}: ${kind.label}`,
    rps: [],
    p50Ms: [],
    p99Ms: [],
  });
  const perEvent = kinds.map((k) => named(k, 'per-event consumer (concurrency 8), saturated'));
  const saturated = kinds.map((k) =>
    named(k, `batch consumer (≤ ${BATCH_MAX} events / ${BATCH_WAIT_MS} ms), saturated`),
  );
  const halfLoad = kinds.map((k) => named(k, 'batch consumer at half of its saturation rate'));
  const relayRates: number[] = [];
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    // A warm-up round of each (JIT, connection pools, topic creation paths), not reported.
    for (const [i, kind] of kinds.entries()) {
      if (MODES.has('per-event')) await round(kind.config, dbs.provider, `warm${i}`);
      if (MODES.has('batch')) await batchSaturation(kind.config, dbs.provider, `warmb${i}`);
    }
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, kind] of kinds.entries()) {
        const tag = `r${r}k${i}_${Date.now().toString(36)}`;
        if (MODES.has('per-event')) {
          const result = await round(kind.config, dbs.provider, tag);
          const s = perEvent[i] as Series;
          s.rps.push(result.eventsPerSecond);
          s.p50Ms.push(result.p50Ms);
          s.p99Ms.push(result.p99Ms);
          log(
            `round ${r + 1} ${kind.name} per-event: ${result.eventsPerSecond.toFixed(0)} events/s, lag p50 ${result.p50Ms.toFixed(0)} ms, p99 ${result.p99Ms.toFixed(0)} ms`,
          );
        }
        if (MODES.has('batch')) {
          const sat = await batchSaturation(kind.config, dbs.provider, `${tag}s`);
          (saturated[i] as Series).rps.push(sat.eventsPerSecond);
          (saturated[i] as Series).p50Ms.push(Number.NaN);
          (saturated[i] as Series).p99Ms.push(Number.NaN);
          if (Number.isFinite(sat.relayPerSecond)) relayRates.push(sat.relayPerSecond);
          log(
            `round ${r + 1} ${kind.name} batch saturated: ${sat.eventsPerSecond.toFixed(0)} events/s (relay ${sat.relayPerSecond.toFixed(0)} events/s)`,
          );
          const half = await batchLatency(kind.config, dbs.provider, `${tag}h`, sat.eventsPerSecond / 2);
          const s = halfLoad[i] as Series;
          s.rps.push(half.eventsPerSecond);
          s.p50Ms.push(half.p50Ms);
          s.p99Ms.push(half.p99Ms);
          log(
            `round ${r + 1} ${kind.name} batch at half load: ${half.eventsPerSecond.toFixed(0)} events/s written, lag p50 ${half.p50Ms.toFixed(0)} ms, p99 ${half.p99Ms.toFixed(0)} ms`,
          );
        }
      }
    }
  } finally {
    await dbs.close();
  }
  const series = [...perEvent, ...saturated, ...halfLoad].filter((s) => s.rps.length > 0);
  const figures: Record<string, number | string> = {
    'per-event events per round': EVENTS,
    'batch events per saturation round': BATCH_EVENTS,
    'other work on the machine': process.env.BENCH_NOTE ?? 'not recorded',
  };
  for (const [i, kind] of kinds.entries()) {
    const sat = saturated[i] as Series;
    const pe = perEvent[i] as Series;
    if (sat.rps.length > 0) {
      figures[`${kind.name} batch saturated events/s (median)`] = median(sat.rps);
      figures[`${kind.name} batch p99 at half load ms (median)`] = median((halfLoad[i] as Series).p99Ms);
      figures[`${kind.name} goal ≥ 50k events/s and p99 ≤ 1 s`] =
        median(sat.rps) >= 50_000 && median((halfLoad[i] as Series).p99Ms) <= 1000 ? 'met' : 'not met';
    }
    if (sat.rps.length > 0 && pe.rps.length > 0)
      figures[`${kind.name} batch/per-event throughput ratio (paired)`] = pairedRatio(sat.rps, pe.rps);
  }
  if (relayRates.length > 0)
    figures['kafka relay events/s while filling the topic (median)'] = median(relayRates);
  return {
    scenario: 'events',
    startedAt,
    machine: machine(),
    method: `Per-event baseline: ${EVENTS} events per round written to a PostgreSQL 15 outbox in transactions of ${TX_SIZE} (${KEYS} aggregate ids) while one consumer group (concurrency 8) applies each as an effect row in its own transaction with a processed-event record; "rps" = events/s from the first outbox commit to the last effect, lag = outbox commit → effect under saturation. Batch consumer (ADR 012): handleBatch with ≤ ${BATCH_MAX} events / ${BATCH_WAIT_MS} ms, one transaction per batch (processed-event records in one INSERT … unnest, effects in one INSERT … unnest, embedded checkpoint in the same transaction; Kafka offsets committed after it). Saturated: ${BATCH_EVENTS} events are in the log before the consumer starts (Kafka: the relay has published them all), rps = events / (last effect − first effect). Half load: events written at half of that round's saturated rate in transactions of ${TX_SIZE} for ${LATENCY_SECONDS} s; p50/p99 = outbox commit → effect (clock_timestamp() in the consumer transaction). ${ROUNDS} interleaved rounds per log after one warm-up each, fresh schemas/topics per round; medians. Single-node Kafka 4.1 broker, PostgreSQL, Node and the load share the machine's 2 cores.`,
    series,
    figures,
  };
}
