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
} from '@nova/kernel';
import { openTestDatabases } from '@nova/kernel/testing';
import { type Generated, sql } from 'kysely';
import { type BenchReport, machine, median, type Series } from '../lib/report.js';

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
    { name: 'kafka: outbox → relay → Kafka (3 partitions) → consumer group', config: kafkaConfig },
    { name: 'embedded: outbox tables read by seq', config: embeddedConfig },
  ];
  const series: Series[] = kinds.map((k) => ({ name: k.name, rps: [], p50Ms: [], p99Ms: [] }));
  try {
    // A warm-up round of each (JIT, connection pools, topic creation paths), not reported.
    for (const [i, kind] of kinds.entries()) await round(kind.config, dbs.provider, `warm${i}`);
    for (let r = 0; r < ROUNDS; r++) {
      for (const [i, kind] of kinds.entries()) {
        const result = await round(kind.config, dbs.provider, `r${r}k${i}_${Date.now().toString(36)}`);
        const s = series[i] as Series;
        s.rps.push(result.eventsPerSecond);
        s.p50Ms.push(result.p50Ms);
        s.p99Ms.push(result.p99Ms);
        process.stderr.write(
          `round ${r + 1} ${kind.name.split(':')[0]}: ${result.eventsPerSecond.toFixed(0)} events/s, lag p50 ${result.p50Ms.toFixed(0)} ms, p99 ${result.p99Ms.toFixed(0)} ms\n`,
        );
      }
    }
  } finally {
    await dbs.close();
  }
  const [kafka, embedded] = series as [Series, Series];
  return {
    scenario: 'events',
    startedAt,
    machine: machine(),
    method: `${EVENTS} events per round written to a PostgreSQL 15 outbox in transactions of ${TX_SIZE} (${KEYS} aggregate ids) while one consumer group (concurrency 8) applies each as an effect row in its own transaction with a processed-event record; ${ROUNDS} interleaved rounds per log after one warm-up round each, fresh schemas/topics per round. "rps" = events/s from the first outbox commit to the last effect; p50/p99 = end-to-end lag from the outbox transaction's commit to the effect (clock_timestamp() inside the consumer transaction). The writer commits the round in ~2 s, faster than one group drains it, so the lag figures are dominated by queueing behind the backlog (saturation), not by per-hop latency. Single-node Kafka 4.1 broker (scripts/kafka.sh), PostgreSQL, Node and the load share the machine's cores. Medians of the rounds.`,
    series,
    figures: {
      'events per round': EVENTS,
      'kafka/embedded throughput ratio': median(kafka.rps) / median(embedded.rps),
      'kafka/embedded p50 lag ratio': median(kafka.p50Ms) / median(embedded.p50Ms),
      'kafka/embedded p99 lag ratio': median(kafka.p99Ms) / median(embedded.p99Ms),
    },
  };
}
