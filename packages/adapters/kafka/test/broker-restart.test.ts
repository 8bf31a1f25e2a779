import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  createLogger,
  createMetricsRegistry,
  createOutboxWriter,
  type Database,
  type Worker,
} from '@nova/kernel';
import { openTestDatabases, type TestDatabases } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createKafkaEventLog, type KafkaEventLog } from '../src/index.js';
import { countRows, openKernelSchema, repoRoot, sleep, waitFor } from './helpers.js';
import { kafkaDisabled, uniqueSuffix } from './kafka-env.js';

const run = promisify(execFile);
const logger = createLogger('silent');

/**
 * The fault test restarts a broker, so it gets a PRIVATE one (own ports and
 * state dir): restarting the shared test broker would break every other
 * Kafka suite running in parallel (and other developers' runs).
 */
const PRIVATE = {
  ...process.env,
  KAFKA_PORT: '19192',
  KAFKA_CONTROLLER_PORT: '19193',
  NOVA_KAFKA_STATE: path.join(repoRoot, '.kafka', 'fault-tests'),
};
const kafkaSh = (command: string) =>
  run(path.join(repoRoot, 'scripts/kafka.sh'), [command], { env: PRIVATE, timeout: 180_000 });

/**
 * The private broker's JVM, found by its state dir in the command line. Under
 * load scripts/kafka.sh's start can misjudge a starting JVM as exited and
 * forget its pid (reported to the script's owner); this finds it anyway so
 * the test neither fails on that nor leaves a broker behind.
 */
async function privateBrokerPids(): Promise<number[]> {
  const { stdout } = await run('ps', ['-eo', 'pid=,args=']).catch(() => ({ stdout: '' }));
  const marker = `${PRIVATE.NOVA_KAFKA_STATE}/server.properties`;
  return stdout
    .split('\n')
    .filter((line) => line.includes('kafka.Kafka') && line.includes(marker))
    .map((line) => Number.parseInt(line.trim(), 10))
    .filter((pid) => Number.isInteger(pid));
}

async function startPrivateBroker(): Promise<void> {
  try {
    await kafkaSh('start');
  } catch (error) {
    // A JVM that did come up is fine; otherwise the failure is real.
    await sleep(3000);
    if ((await privateBrokerPids()).length === 0) throw error;
  }
}

async function stopPrivateBroker(): Promise<void> {
  await kafkaSh('stop').catch(() => undefined);
  for (const pid of await privateBrokerPids()) process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while ((await privateBrokerPids()).length > 0 && Date.now() < deadline) await sleep(200);
}

interface Effects {
  effects: { event_id: string; n: number };
}

describe.skipIf(kafkaDisabled())('Kafka under a broker restart', () => {
  let dbs: TestDatabases;
  let producer: Database<unknown>;
  let consumer: Database<Effects>;
  let log: KafkaEventLog;
  const workers: Worker[] = [];

  beforeAll(async () => {
    await stopPrivateBroker(); // an orphan of an interrupted run
    await startPrivateBroker();
    const brokers = `127.0.0.1:${PRIVATE.KAFKA_PORT}`;
    dbs = await openTestDatabases('postgres');
    const s = uniqueSuffix();
    producer = await openKernelSchema(dbs.provider, `fp_${s}`, logger);
    consumer = await openKernelSchema<Effects>(dbs.provider, `fc_${s}`, logger);
    await sql`create table ${sql.id(consumer.schema, 'effects')} (event_id uuid not null, n int not null)`.execute(
      consumer.db,
    );
    log = createKafkaEventLog({
      config: {
        ...dbs.config,
        kafka: { brokers: [brokers], clientId: 'nova-fault', outboxRelay: 'builtin' },
      },
      logger,
      metrics: createMetricsRegistry(),
      validate: () => undefined,
      relay: { pollIntervalMs: 200 },
      consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500, rebalanceTimeoutMs: 10_000 },
    });
  }, 240_000);
  afterAll(async () => {
    for (const worker of workers) await worker.stop(Date.now() + 5000).catch(() => undefined);
    await log?.close();
    await dbs?.close();
    await stopPrivateBroker();
  }, 120_000);

  test('restart mid-stream: nothing acknowledged is lost, no effect applied twice', async () => {
    const s = uniqueSuffix();
    const aggregateType = `f${s}.item`;
    const writer = createOutboxWriter(() => undefined);
    const relay = log.relay(producer) as Worker;
    const worker = log.consumer<Effects>({
      group: `t.restart.${s}`,
      topics: [`nova.${aggregateType}.v1`],
      database: consumer,
      async handle(event, { tx }) {
        await sleep(1);
        await tx
          .insertInto('effects')
          .values({ event_id: event.id, n: (event.payload as { n: number }).n })
          .execute();
      },
    });
    workers.push(relay, worker);
    await relay.start();
    await worker.start();
    const total = 3000;
    let written = 0;
    const writing = (async () => {
      while (written < total) {
        const from = written;
        await producer.transaction((tx) =>
          writer.write(
            tx,
            Array.from({ length: 100 }, (_, i) => ({
              aggregateType,
              aggregateId: `k${(from + i) % 13}`,
              type: 'item.made',
              payload: { n: from + i },
            })),
          ),
        );
        written += 100;
        await sleep(20);
      }
    })();
    const applied = async () => (await consumer.db.selectFrom('effects').select('n').execute()).length;
    await waitFor('stream flowing', async () => (await applied()) > 300);
    await stopPrivateBroker();
    await startPrivateBroker();
    await writing;
    await waitFor(`${total} effects`, async () => (await applied()) >= total, 180_000);
    await waitFor('outbox drained', async () => (await countRows(producer, 'outbox')) === 0, 60_000);
    await sleep(1000);
    const rows = await consumer.db.selectFrom('effects').select(['event_id', 'n']).execute();
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(total);
    expect(new Set(rows.map((r) => r.n)).size).toBe(total);
  }, 300_000);
});
