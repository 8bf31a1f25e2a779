import { randomUUID } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { type Kysely, sql } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/db/migrations.js';
import { TransientError } from '../../src/errors/errors.js';
import { createEmbeddedEventLog } from '../../src/events/embedded-log.js';
import type { EventLog, EventValidator } from '../../src/events/event-log.js';
import type { KernelTables } from '../../src/events/kernel-tables.js';
import { createOutboxWriter } from '../../src/events/outbox.js';
import { ConsumerDefinitionError, typedConsumer } from '../../src/events/typed-consumer.js';
import { createLogger } from '../../src/logging/logger.js';
import { DATABASE_KINDS, openTestDatabases } from '../../src/testing/databases.js';
import type { Worker } from '../../src/workers/worker.js';

const Opened = Type.Object({ accountId: Type.String(), limit: Type.Integer() });
const Closed = Type.Object({ accountId: Type.String() });
const Audited = Type.Object({ note: Type.String() });
const ACCOUNT = {
  topic: 'nova.tprobe.account.v1',
  events: { 'account.opened': Opened, 'account.closed': Closed },
};
const AUDIT = { topic: 'nova.tprobe.audit.v1', events: { 'audit.noted': Audited } };
const catalog = { ...ACCOUNT.events, ...AUDIT.events };
const checks = new Map(Object.entries(catalog).map(([type, schema]) => [type, TypeCompiler.Compile(schema)]));

describe('typedConsumer definitions', () => {
  const database = {} as never;
  const noop = async () => undefined;

  it('refuses a consumer that leaves a type of its topics unhandled', () => {
    expect(() =>
      typedConsumer({ group: 't.g', topics: [ACCOUNT], database, handlers: { 'account.opened': noop } }),
    ).toThrow(/no handler for "account.closed" \(nova.tprobe.account.v1\)/);
  });

  it("lets only the owning service's groups read an internal topic", () => {
    const internal = { ...AUDIT, internal: true };
    const spec = (group: string) => () =>
      typedConsumer({ group, topics: [internal], database, handlers: { 'audit.noted': noop } });
    expect(spec('social.users')).toThrow(/may not read nova.tprobe.audit.v1: it is internal to tprobe/);
    expect(spec('tprobeextra.mailer')).toThrow(ConsumerDefinitionError);
    expect(spec('tprobe.mailer')).not.toThrow();
  });

  it('refuses a handler or an ignore for a type none of its topics carries', () => {
    expect(() =>
      typedConsumer({
        group: 't.g',
        topics: [ACCOUNT],
        database,
        // A type of a topic the consumer did not subscribe to (the cast stands for a stale spelling).
        handlers: { 'account.opened': noop, 'account.closed': noop, 'audit.noted': noop } as never,
      }),
    ).toThrow(ConsumerDefinitionError);
    expect(() =>
      typedConsumer({
        group: 't.g',
        topics: [ACCOUNT],
        database,
        handlers: { 'account.opened': noop },
        ignore: ['account.closed', 'account.frozen' as never],
      }),
    ).toThrow(/ignores "account.frozen", which none of its topics carries/);
  });

  it('refuses a type both handled and ignored, and a consumer that handles nothing', () => {
    expect(() =>
      typedConsumer({
        group: 't.g',
        topics: [ACCOUNT],
        database,
        handlers: { 'account.opened': noop, 'account.closed': noop },
        ignore: ['account.closed'],
      }),
    ).toThrow(/both handles and ignores/);
    expect(() =>
      typedConsumer({
        group: 't.g',
        topics: [ACCOUNT],
        database,
        handlers: {},
        ignore: ['account.opened', 'account.closed'],
      }),
    ).toThrow(/handles no event type/);
  });

  it('maps topics, ignores and the handler mode onto the consumer spec', () => {
    const spec = typedConsumer({
      group: 't.g',
      topics: [ACCOUNT, AUDIT],
      database,
      handlers: { 'account.opened': noop, 'audit.noted': noop },
      ignore: ['account.closed'],
    });
    expect(spec.topics).toEqual([ACCOUNT.topic, AUDIT.topic]);
    expect(spec.ignores?.('account.closed')).toBe(true);
    expect(spec.ignores?.('account.opened')).toBe(false);
    expect(typeof spec.handle).toBe('function');
    const batch = typedConsumer({
      group: 't.g',
      topics: [ACCOUNT],
      database,
      handlers: { 'account.opened': noop, 'account.closed': noop },
      batch: { maxEvents: 10 },
    });
    expect(typeof batch.handleBatch).toBe('function');
  });
});

describe.each(DATABASE_KINDS)('typed consumer on the embedded log (%s)', (kind) => {
  let dbs: Awaited<ReturnType<typeof openTestDatabases>>;
  let log: EventLog;
  let producer: Awaited<ReturnType<typeof dbs.provider.open<KernelTables>>>;
  let consumer: typeof producer;
  const validations: string[] = [];
  const metrics = new Registry();
  const workers: Worker[] = [];
  const validate: EventValidator = (type, payload) => {
    validations.push(type);
    const check = checks.get(type);
    if (!check) throw new Error(`unknown event type ${type}`);
    if (!check.Check(payload)) throw new Error(`${type} breaks its contract`);
  };

  beforeAll(async () => {
    dbs = await openTestDatabases(kind);
    const logger = createLogger('silent');
    producer = await dbs.provider.open<KernelTables>('tprobe');
    consumer = await dbs.provider.open<KernelTables>('tsink');
    await runMigrations(producer, '/nonexistent', logger);
    await runMigrations(consumer, '/nonexistent', logger);
    await sql`create table tsink.limits (account_id text primary key, lim int not null)`.execute(consumer.db);
    log = createEmbeddedEventLog({
      provider: dbs.provider,
      logger,
      metrics,
      validate,
      pollIntervalMs: 100,
      checkpointIntervalMs: 20,
    });
  });
  afterAll(async () => {
    for (const worker of workers) await worker.stop(Date.now() + 5000);
    await log?.close();
    await dbs?.close();
  });

  const raw = (type: string, key: string, payload: unknown) =>
    (producer.db as Kysely<KernelTables>)
      .insertInto('outbox')
      .values({
        id: randomUUID(),
        aggregatetype: 'tprobe.account',
        aggregateid: key,
        type,
        payload: JSON.stringify(payload),
      })
      .execute();

  it('validates each payload once, hands typed payloads to handlers, skips ignored types, dead-letters unknown ones', async () => {
    const group = `typed.${kind}`;
    const seen: Array<{ type: string; limit?: number }> = [];
    let failedOnce = false;
    const worker = log.consumer(
      typedConsumer({
        group,
        topics: [ACCOUNT],
        database: consumer,
        retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 },
        handlers: {
          async 'account.opened'({ payload }, { tx }) {
            // payload is typed from the schema: payload.limit is a number here.
            seen.push({ type: 'account.opened', limit: payload.limit });
            if (!failedOnce) {
              failedOnce = true;
              throw new TransientError('first attempt fails');
            }
            await sql`insert into tsink.limits values (${payload.accountId}, ${payload.limit})`.execute(tx);
          },
        },
        ignore: ['account.closed'],
      }),
    );
    workers.push(worker);
    await worker.start();
    const writer = createOutboxWriter(() => undefined);
    await producer.transaction((tx) =>
      writer.write(tx, [
        {
          aggregateType: 'tprobe.account',
          aggregateId: 'a1',
          type: 'account.opened',
          payload: { accountId: 'a1', limit: 5 },
        },
        {
          aggregateType: 'tprobe.account',
          aggregateId: 'a1',
          type: 'account.closed',
          payload: { accountId: 'a1' },
        },
      ]),
    );
    // A producer on a newer contract: a type this consumer's topic catalog does not know.
    await raw('account.frozen', 'a2', { accountId: 'a2' });

    const deadLetters = () =>
      (consumer.db as Kysely<KernelTables>)
        .selectFrom('dead_letters')
        .select(['type', 'reason', 'attempts'])
        .where('group_id', '=', group)
        .execute();
    await expect.poll(deadLetters, { timeout: 10_000 }).toHaveLength(1);
    const [letter] = await deadLetters();
    expect(letter).toMatchObject({ type: 'account.frozen', attempts: 1 });
    await expect
      .poll(async () => (await sql<{ lim: number }>`select lim from tsink.limits`.execute(consumer.db)).rows)
      .toEqual([{ lim: 5 }]);
    // Two attempts of account.opened, one validation; the ignored event was never validated.
    expect(seen).toEqual([
      { type: 'account.opened', limit: 5 },
      { type: 'account.opened', limit: 5 },
    ]);
    expect(validations.filter((t) => t === 'account.opened')).toHaveLength(1);
    expect(validations).not.toContain('account.closed');
    // Ignored: no transaction, no processed record, counted as skipped.
    const processed = await (consumer.db as Kysely<KernelTables>)
      .selectFrom('processed_events')
      .select('event_id')
      .where('group_id', '=', group)
      .execute();
    expect(processed).toHaveLength(2);
    const skipped = await metrics.getSingleMetric('nova_consumer_events_skipped_total')?.get();
    expect(skipped?.values.find((v) => v.labels.group === group)?.value).toBe(1);
  });
});
