import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createKafkaEventLog, type RelayOptions } from '@nova/kafka';
import { createLogger, createMetricsRegistry, createOutboxWriter, runMigrations } from '@nova/kernel';
import { openTestDatabases } from '@nova/kernel/testing';
import { type Kysely, sql } from 'kysely';
import { startCpuMeter } from '../lib/cpu-meter.js';
import { processCpuMs } from '../lib/process-cpu.js';

/**
 * The outbox → Kafka relay alone, for profiling: RELAY_EVENTS events (1000
 * keys, 1000 per transaction) wait in a fresh outbox, then the built-in relay
 * publishes them to the broker at KAFKA_BROKERS (127.0.0.1:9092). Prints
 * events/s and CPU µs per event of this process, the database's backends and
 * the broker (NOVA_KAFKA_STATE names it). Run under `node --cpu-prof` to see
 * where the Node share goes:
 *   node --cpu-prof --cpu-prof-dir=/tmp/relay-prof --import tsx bench/profile/relay-profile.ts
 * RELAY_BATCH_SIZE sets the relay's batchSize.
 */
const EVENTS = Number(process.env.RELAY_EVENTS ?? 100_000);
const KEYS = 1000;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const relayOptions: RelayOptions = process.env.RELAY_BATCH_SIZE
  ? { batchSize: Number(process.env.RELAY_BATCH_SIZE) }
  : {};

const dbs = await openTestDatabases('postgres');
try {
  const logger = createLogger('warn');
  const producer = await dbs.provider.open<unknown>(`rp_${Date.now().toString(36)}`);
  await runMigrations(producer, path.join(root, 'no-migrations'), logger);
  const aggregateType = `${producer.schema}.item`;
  const writer = createOutboxWriter(() => undefined);
  for (let t = 0; t < EVENTS; t += 1000)
    await producer.transaction((tx) =>
      writer.write(
        tx,
        Array.from({ length: 1000 }, (_, i) => ({
          aggregateType,
          aggregateId: `k${(t + i) % KEYS}`,
          type: 'bench.item',
          payload: { n: t + i },
        })),
      ),
    );
  const outbox = sql.id(producer.schema, 'outbox');
  const { rows } = await sql<{ last: string }>`select max(seq)::text as last from ${outbox}`.execute(
    producer.db,
  );
  const lastSeq = Number(rows[0]?.last);
  const log = createKafkaEventLog({
    config: {
      ...dbs.config,
      kafka: {
        brokers: [process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'],
        clientId: 'nova-relay-profile',
        outboxRelay: 'builtin',
      },
    },
    logger,
    metrics: createMetricsRegistry(),
    validate: () => undefined,
    relay: relayOptions,
  });
  const relay = log.relay(producer);
  if (!relay) throw new Error('the Kafka log has no relay');
  // Which backends spend the PostgreSQL share (the relay's session, the pool, autovacuum, …).
  const backends = async () =>
    (
      await sql<{ pid: number; kind: string }>`
        select pid, backend_type || coalesce(': ' || left(query, 60), '') as kind from pg_stat_activity
        where datname = current_database()`.execute(producer.db)
    ).rows;
  const backendCpuBefore = new Map((await backends()).map((b) => [b.pid, processCpuMs(b.pid)]));
  const meter = await startCpuMeter(producer.db as Kysely<unknown>);
  const started = Date.now();
  await relay.start();
  // Rows are pruned in seq order: the last one gone means all are (an index probe, not a count).
  for (;;) {
    const { rows: left } = await sql<{ there: boolean }>`
      select exists(select 1 from ${outbox} where seq = ${lastSeq}) as there`.execute(producer.db);
    if (!left[0]?.there) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (Date.now() - started) / 1000;
  const perBackend = (await backends()).map((b) => ({
    ...b,
    ms: processCpuMs(b.pid) - (backendCpuBefore.get(b.pid) ?? 0),
  }));
  const cpu = await meter();
  await relay.stop(Date.now() + 5000);
  await log.close();
  const us = (ms: number) => ((ms * 1000) / EVENTS).toFixed(1);
  for (const b of perBackend) {
    const spent = b.ms;
    if (spent > 0) console.log(`postgres backend ${b.pid} (${b.kind}): ${us(spent)} µs/event`);
  }
  console.log(
    JSON.stringify({
      events: EVENTS,
      eventsPerSecond: Math.round(EVENTS / seconds),
      cpuMicrosPerEvent: { node: us(cpu.nodeMs), postgres: us(cpu.postgresMs), broker: us(cpu.brokerMs) },
      relayOptions,
    }),
  );
} finally {
  await dbs.close();
}
