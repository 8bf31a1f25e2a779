import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { runMigrations } from '../../src/db/migrations.js';
import { FatalError } from '../../src/errors/errors.js';
import type { EventValidator } from '../../src/events/event-log.js';
import type { KernelTables } from '../../src/events/kernel-tables.js';
import { createOutboxWriter, OUTBOX_CHANNEL } from '../../src/events/outbox.js';
import { createLogger } from '../../src/logging/logger.js';
import { DATABASE_KINDS, openTestDatabases, type TestDatabases } from '../../src/testing/databases.js';

const validate: EventValidator = (type, payload) => {
  if (type !== 'thing.made' || typeof (payload as { n?: unknown }).n !== 'number')
    throw new Error('bad thing');
};

describe.each(DATABASE_KINDS)('outbox writer on %s', (kind) => {
  let dbs: TestDatabases;
  let database: Database<KernelTables>;
  const writer = createOutboxWriter(validate);

  beforeAll(async () => {
    dbs = await openTestDatabases(kind);
    database = await dbs.provider.open<KernelTables>('maker');
    await runMigrations(database, '/nonexistent', createLogger('silent'));
  });
  afterAll(() => dbs.close());

  const rows = () =>
    database.db
      .selectFrom('outbox')
      .select(['aggregatetype', 'aggregateid', 'type', 'payload', 'seq'])
      .orderBy('seq')
      .execute();

  it('writes nothing when any payload breaks its contract', async () => {
    const attempt = database.transaction(async (tx) => {
      await writer.write(tx, [
        { aggregateType: 'maker.thing', aggregateId: 'a', type: 'thing.made', payload: { n: 1 } },
        { aggregateType: 'maker.thing', aggregateId: 'b', type: 'thing.made', payload: { n: 'two' } },
      ]);
    });
    await expect(attempt).rejects.toBeInstanceOf(FatalError);
    expect(await rows()).toEqual([]);
  });

  it('writes rows with jsonb payloads, ids and increasing seq, and notifies at commit', async () => {
    const notified: string[] = [];
    const unlisten = await database.listen?.(OUTBOX_CHANNEL, (topic) => notified.push(topic));
    await database.transaction((tx) =>
      writer.write(tx, [
        { aggregateType: 'maker.thing', aggregateId: 'a', type: 'thing.made', payload: { n: 1 } },
        { aggregateType: 'maker.thing', aggregateId: 'b', type: 'thing.made', payload: { n: 2 } },
      ]),
    );
    await database.transaction((tx) =>
      writer.write(tx, [
        { aggregateType: 'maker.other', aggregateId: 'c', type: 'thing.made', payload: { n: 3 } },
      ]),
    );
    const written = await rows();
    expect(written.map((r) => [r.aggregatetype, r.aggregateid, r.payload])).toEqual([
      ['maker.thing', 'a', { n: 1 }],
      ['maker.thing', 'b', { n: 2 }],
      ['maker.other', 'c', { n: 3 }],
    ]);
    const seqs = written.map((r) => r.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    expect(typeof seqs[0]).toBe('number');
    const jsonType = await sql<{
      t: string;
    }>`select jsonb_typeof(payload) as t from maker.outbox limit 1`.execute(database.db);
    expect(jsonType.rows[0]?.t).toBe('object');
    await expect
      .poll(() => [...notified].sort(), { timeout: 3000 })
      .toEqual(['nova.maker.other.v1', 'nova.maker.thing.v1']);
    await unlisten?.();
  });

  it('needs a schema-scoped transaction', async () => {
    const unscoped = database.db.withoutPlugins() as unknown as Kysely<KernelTables>;
    await expect(
      unscoped
        .transaction()
        .execute((tx) =>
          writer.write(tx, [
            { aggregateType: 'maker.thing', aggregateId: 'x', type: 'thing.made', payload: { n: 1 } },
          ]),
        ),
    ).rejects.toThrow(/schema-scoped/);
  });

  it('writes within the caller statement, outside any transaction, only if the gate CTE has a row', async () => {
    await sql`CREATE TABLE IF NOT EXISTS maker.counters (id text PRIMARY KEY, n int NOT NULL)`.execute(
      database.db,
    );
    await sql`INSERT INTO maker.counters VALUES ('c', 0)`.execute(database.db);
    const before = (await rows()).length;
    const notified: string[] = [];
    const unlisten = await database.listen?.(OUTBOX_CHANNEL, (topic) => notified.push(topic));
    const bumpIf = (seen: number) =>
      database.autocommit((db) =>
        writer.writeWithin(
          db,
          [{ aggregateType: 'maker.thing', aggregateId: 'c', type: 'thing.made', payload: { n: seen + 1 } }],
          (outbox) => sql<{ bumped: number }>`
          WITH bump AS (UPDATE maker.counters SET n = n + 1 WHERE id = 'c' AND n = ${seen} RETURNING n),
          ${outbox}
          SELECT count(*)::int AS bumped FROM bump`,
          { onlyIf: 'bump' },
        ),
      );
    expect((await bumpIf(0)).rows).toEqual([{ bumped: 1 }]);
    // The wake-up reaches readers (after the statement, from outside it, on PostgreSQL).
    await expect.poll(() => notified, { timeout: 3000 }).toContain('nova.maker.thing.v1');
    await unlisten?.();
    // Stale: the UPDATE matches nothing, so no event either.
    expect((await bumpIf(0)).rows).toEqual([{ bumped: 0 }]);
    const written = (await rows()).slice(before);
    expect(written.map((r) => [r.aggregateid, r.payload])).toEqual([['c', { n: 1 }]]);

    // A statement that fails writes neither its change nor its events.
    const failing = writer.writeWithin(
      database.db,
      [{ aggregateType: 'maker.thing', aggregateId: 'c', type: 'thing.made', payload: { n: 9 } }],
      (outbox) => sql`
        WITH bump AS (UPDATE maker.counters SET n = n + 1 WHERE id = 'c' RETURNING n),
        ${outbox}
        SELECT 1 / (SELECT count(*)::int - 1 FROM bump) AS boom`,
    );
    await expect(failing).rejects.toThrow(/division by zero/);
    expect((await rows()).length).toBe(before + 1);
    const { rows: counter } = await sql<{ n: number }>`SELECT n FROM maker.counters`.execute(database.db);
    expect(counter).toEqual([{ n: 1 }]);

    // A payload that breaks its contract writes nothing, and runs nothing.
    await expect(
      writer.writeWithin(
        database.db,
        [{ aggregateType: 'maker.thing', aggregateId: 'c', type: 'thing.made', payload: { n: 'x' } }],
        (outbox) => sql`WITH bump AS (UPDATE maker.counters SET n = 100 RETURNING n), ${outbox} SELECT 1`,
      ),
    ).rejects.toBeInstanceOf(FatalError);
    expect((await sql<{ n: number }>`SELECT n FROM maker.counters`.execute(database.db)).rows).toEqual([
      { n: 1 },
    ]);
  });
});

// A NOTIFY in a transaction takes the server's one notification-queue lock at
// commit and holds it through the commit's WAL flush: every notifying commit
// of the server waited for the one before (the content service's POST /posts
// under load, issue 10). The outbox's NOTIFY now goes out after the commit.
describe('outbox wake-ups on postgres', () => {
  let dbs: TestDatabases;
  let database: Database<KernelTables>;
  let listener: pg.Client;
  const heard: { topic: string; pid: number }[] = [];
  const writer = createOutboxWriter(validate);
  const thing = (n: number) => ({
    aggregateType: 'maker.thing',
    aggregateId: `k${n}`,
    type: 'thing.made',
    payload: { n },
  });

  beforeAll(async () => {
    dbs = await openTestDatabases('postgres');
    database = await dbs.provider.open<KernelTables>('maker');
    await runMigrations(database, '/nonexistent', createLogger('silent'));
    listener = new pg.Client({ connectionString: dbs.config.database.defaultUrl });
    await listener.connect();
    listener.on('notification', (n) => heard.push({ topic: n.payload ?? '', pid: n.processId }));
    await listener.query(`LISTEN ${OUTBOX_CHANNEL}`);
  });
  afterAll(async () => {
    await listener?.end();
    await dbs?.close();
  });

  it('are sent after the commit from outside the writing transaction, never for a rollback', async () => {
    heard.length = 0;
    await expect(
      database.transaction(async (tx) => {
        await writer.write(tx, [thing(1)]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const writerPid = await database.transaction(async (tx) => {
      await writer.write(tx, [thing(2)]);
      const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(tx);
      return rows[0]?.pid;
    });
    await expect.poll(() => heard.length, { timeout: 3000 }).toBe(1);
    expect(heard[0]?.topic).toBe('nova.maker.thing.v1');
    // Sent by another session: the writing transaction itself issued no NOTIFY.
    expect(heard[0]?.pid).not.toBe(writerPid);
  });

  it('of concurrent commits are coalesced while a send is under way', async () => {
    heard.length = 0;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => database.transaction((tx) => writer.write(tx, [thing(i)]))),
    );
    await expect.poll(() => heard.length, { timeout: 3000 }).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(heard.length).toBeLessThan(20);
  });
});
