import { Type } from '@sinclair/typebox';
import { type Kysely, sql } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionHeldError } from '../../src/db/index.js';
import { runMigrations } from '../../src/db/migrations.js';
import { inTransaction } from '../../src/db/transaction.js';
import { createEmbeddedEventLog } from '../../src/events/embedded-log.js';
import type { EventLog } from '../../src/events/event-log.js';
import type { KernelTables } from '../../src/events/kernel-tables.js';
import { createOutboxWriter } from '../../src/events/outbox.js';
import { type TypedEventHandler, typedConsumer } from '../../src/events/typed-consumer.js';
import { createLogger } from '../../src/logging/logger.js';
import { bindInProcess, defineSyncApi } from '../../src/sync/index.js';
import { DATABASE_KINDS, openTestDatabases } from '../../src/testing/databases.js';
import type { Worker } from '../../src/workers/worker.js';

/**
 * A consumer that calls another module's sync API inside its transaction, in
 * the all-in-one shape: the callee reads its own schema on the same embedded
 * database, whose one connection the consumer's transaction holds. On PGlite
 * the kernel refuses the call at once (naming it) instead of hanging; on
 * PostgreSQL (a pool) the same code runs.
 */
const directoryApi = defineSyncApi('directory', 1, {
  lookup: {
    request: Type.Object({ ids: Type.Array(Type.String()) }),
    response: Type.Object({ names: Type.Array(Type.String()) }),
    idempotent: true,
  },
});
const Greeted = Type.Object({ userId: Type.String() });
const GREETINGS = { topic: 'nova.hcprobe.greeting.v1', events: { 'greeting.sent': Greeted } };

describe.each(DATABASE_KINDS)('a call that needs the connection its transaction holds (%s)', (kind) => {
  let dbs: Awaited<ReturnType<typeof openTestDatabases>>;
  let log: EventLog;
  let producer: Awaited<ReturnType<typeof dbs.provider.open<KernelTables>>>;
  let consumer: typeof producer;
  let callee: typeof producer;
  const workers: Worker[] = [];
  const directory = () =>
    bindInProcess(directoryApi, {
      async lookup({ ids }) {
        const rows = await sql<{ name: string }>`
          select name from hcdir.people where id = any(${ids}::text[]) order by id`.execute(callee.db);
        return { names: rows.rows.map((r) => r.name) };
      },
    });

  beforeAll(async () => {
    dbs = await openTestDatabases(kind);
    const logger = createLogger('silent');
    producer = await dbs.provider.open<KernelTables>('hcprobe');
    consumer = await dbs.provider.open<KernelTables>('hcsink');
    callee = await dbs.provider.open<KernelTables>('hcdir');
    for (const database of [producer, consumer, callee])
      await runMigrations(database, '/nonexistent', logger);
    await sql`create table hcdir.people (id text primary key, name text not null)`.execute(callee.db);
    await sql`insert into hcdir.people values ('u1', 'Ada')`.execute(callee.db);
    await sql`create table hcsink.greeted (user_id text primary key, name text)`.execute(consumer.db);
    log = createEmbeddedEventLog({
      provider: dbs.provider,
      logger,
      metrics: new Registry(),
      validate: () => undefined,
      pollIntervalMs: 50,
      checkpointIntervalMs: 20,
    });
    // One event in the log; each consumer group below reads it from the start.
    await producer.transaction((tx) =>
      createOutboxWriter(() => undefined).write(tx, [
        {
          aggregateType: 'hcprobe.greeting',
          aggregateId: 'u1',
          type: 'greeting.sent',
          payload: { userId: 'u1' },
        },
      ]),
    );
  });
  afterAll(async () => {
    for (const worker of workers) await worker.stop(Date.now() + 5000);
    await log?.close();
    await dbs?.close();
  });

  const letters = (group: string) =>
    (consumer.db as Kysely<KernelTables>)
      .selectFrom('dead_letters')
      .select(['reason', 'attempts'])
      .where('group_id', '=', group)
      .execute();
  const greeted = async () =>
    (
      await sql<{ user_id: string; name: string }>`select * from hcsink.greeted order by user_id`.execute(
        consumer.db,
      )
    ).rows;

  it.each(['per-event', 'batch'] as const)(
    'a %s consumer calling a sync API in its transaction: refused by name on PGlite, applied on PostgreSQL',
    async (mode) => {
      const group = `hcsink.${mode}`;
      const api = directory();
      const greet: TypedEventHandler<'greeting.sent', typeof Greeted, KernelTables> = async (
        { payload },
        { tx },
      ) => {
        const { names } = await api.lookup({ ids: [payload.userId] });
        await sql`insert into hcsink.greeted values (${payload.userId}, ${names[0] ?? null})
                  on conflict (user_id) do nothing`.execute(tx);
      };
      const spec = {
        group,
        topics: [GREETINGS],
        database: consumer,
        retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 },
        handlers: { 'greeting.sent': greet },
      };
      const worker = log.consumer(
        mode === 'batch' ? typedConsumer({ ...spec, batch: { maxEvents: 10 } }) : typedConsumer(spec),
      );
      workers.push(worker);
      await worker.start();
      if (kind === 'pglite') {
        // A programming error: dead-lettered on the first attempt, with the call named.
        await expect.poll(() => letters(group), { timeout: 10_000 }).toHaveLength(1);
        const [letter] = await letters(group);
        expect(letter?.attempts).toBe(1);
        expect(letter?.reason).toMatch(/^ConnectionHeldError: directory\.lookup inside a hcsink transaction/);
        expect(await greeted()).toEqual([]);
      } else {
        await expect.poll(greeted, { timeout: 10_000 }).toEqual([{ user_id: 'u1', name: 'Ada' }]);
        expect(await letters(group)).toEqual([]);
      }
      await worker.stop(Date.now() + 5000);
      await sql`delete from hcsink.greeted`.execute(consumer.db);
    },
  );

  it('the same call before the transaction works on both', async () => {
    const { names } = await directory().lookup({ ids: ['u1'] });
    const name = await inTransaction(consumer, async (tx) => {
      await sql`insert into hcsink.greeted values ('u1', ${names[0] ?? null})`.execute(tx);
      return names[0];
    });
    expect(name).toBe('Ada');
    await sql`delete from hcsink.greeted`.execute(consumer.db);
  });

  it.runIf(kind === 'pglite')(
    'a statement beside the open transaction fails at once, and works again after the commit',
    async () => {
      let later: Promise<unknown> | undefined;
      const refused = await consumer
        .transaction(async (tx) => {
          await sql`select 1`.execute(tx);
          // Started here, run after the commit: the connection is free again by then.
          later = new Promise((resolve) => setImmediate(resolve)).then(() =>
            sql`select count(*) from hcdir.people`.execute(callee.db),
          );
          return sql`select 1`.execute(callee.db);
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(refused).toBeInstanceOf(ConnectionHeldError);
      expect((refused as ConnectionHeldError).message).toMatch(
        /^a statement outside the transaction \(use its `tx`\) inside a hcsink transaction/,
      );
      await expect(later).resolves.toMatchObject({ rows: [{ count: 1 }] });
    },
  );
});
