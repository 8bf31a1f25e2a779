import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { runMigrations } from '../../src/db/migrations.js';
import { createEmbeddedEventLog } from '../../src/events/embedded-log.js';
import type { EventLog, EventValidator, OutboxEvent } from '../../src/events/event-log.js';
import type { KernelTables } from '../../src/events/kernel-tables.js';
import { createOutboxWriter } from '../../src/events/outbox.js';
import { OutboxHorizon } from '../../src/events/outbox-horizon.js';
import { createLogger } from '../../src/logging/logger.js';
import { DATABASE_KINDS, openTestDatabases, type TestDatabases } from '../../src/testing/databases.js';

const validate: EventValidator = (type) => {
  if (type !== 'thing.made') throw new Error(`unknown ${type}`);
};
const writer = createOutboxWriter(validate);
const event = (aggregateType: string, id: string): OutboxEvent => ({
  aggregateType,
  aggregateId: id,
  type: 'thing.made',
  payload: { id },
});

/** A transaction that has written its event (drawn its seq) and waits for `commit()`. */
function heldWriter(database: Database<KernelTables>, events: OutboxEvent[]) {
  let commit!: () => void;
  const released = new Promise<void>((resolve) => {
    commit = resolve;
  });
  let wrote!: () => void;
  const written = new Promise<void>((resolve) => {
    wrote = resolve;
  });
  const done = database.transaction(async (tx) => {
    await writer.write(tx, events);
    wrote();
    await released;
  });
  return { written, commit, done };
}

const readBelowHorizon = async (database: Database<KernelTables>, horizon: number, aggregateType: string) =>
  (
    await database.db
      .selectFrom('outbox')
      .select(['aggregateid', 'seq'])
      .where('aggregatetype', '=', aggregateType)
      .where('seq', '<=', horizon)
      .orderBy('seq')
      .execute()
  ).map((r) => r.aggregateid);

describe.each(DATABASE_KINDS)('outbox order without a writer lock on %s', (kind) => {
  let dbs: TestDatabases;
  let database: Database<KernelTables>;
  let sink: Database<KernelTables>;
  let log: EventLog;

  beforeAll(async () => {
    // 200 writers queue for 10 pooled connections: on a loaded machine that wait may pass the default 5 s.
    dbs = await openTestDatabases(kind, { DATABASE_CONNECT_TIMEOUT_MS: '60000' });
    const logger = createLogger('silent');
    database = await dbs.provider.open<KernelTables>('maker');
    sink = await dbs.provider.open<KernelTables>('sink');
    await runMigrations(database, '/nonexistent', logger);
    await runMigrations(sink, '/nonexistent', logger);
    log = createEmbeddedEventLog({
      provider: dbs.provider,
      logger,
      metrics: new Registry(),
      validate,
      pollIntervalMs: 5000, // long: the consumer must be woken (NOTIFY / the horizon re-check), not polled
      checkpointIntervalMs: 20,
    });
  });
  afterAll(async () => {
    await log?.close();
    await dbs?.close();
  });

  it('the horizon covers every committed row once no writer runs', async () => {
    await database.transaction((tx) =>
      writer.write(tx, [event('maker.calm', 'x'), event('maker.calm', 'y')]),
    );
    const horizon = await new OutboxHorizon('maker').advance(database.db as Kysely<unknown>);
    expect(await readBelowHorizon(database, horizon, 'maker.calm')).toEqual(['x', 'y']);
  });

  it('a later writer commits while an earlier one holds its seq; readers wait for the earlier one and never skip it', async () => {
    if (kind === 'pglite') return; // one session: transactions cannot overlap there at all
    const horizon = new OutboxHorizon('maker');
    const a = heldWriter(database, [event('maker.race', 'A')]);
    await a.written; // A has drawn the smaller seq and has not committed
    // B does not wait for A (no writer lock): it commits while A still runs.
    await database.transaction((tx) => writer.write(tx, [event('maker.race', 'B')]));
    const seqs = await database.db
      .selectFrom('outbox')
      .select(['aggregateid', 'seq'])
      .where('aggregatetype', '=', 'maker.race')
      .execute();
    expect(seqs.map((r) => r.aggregateid)).toEqual(['B']); // A is invisible, B is committed

    const early = await horizon.advance(database.db as Kysely<unknown>);
    expect(await readBelowHorizon(database, early, 'maker.race')).toEqual([]); // not B ahead of A
    expect(horizon.behind).toBe(true);

    a.commit();
    await a.done;
    const late = await horizon.advance(database.db as Kysely<unknown>);
    expect(await readBelowHorizon(database, late, 'maker.race')).toEqual(['A', 'B']);
  });

  it("another schema's long transaction does not hold this outbox's horizon back", async () => {
    if (kind === 'pglite') return;
    // A writer of another outbox (and any other write transaction of the
    // cluster) keeps running; this outbox's committed rows are readable anyway.
    const other = heldWriter(sink, [event('sink.slow', 'S')]);
    await other.written;
    try {
      await database.transaction((tx) => writer.write(tx, [event('maker.free', 'F')]));
      const horizon = await new OutboxHorizon('maker').advance(database.db as Kysely<unknown>);
      expect(await readBelowHorizon(database, horizon, 'maker.free')).toEqual(['F']);
    } finally {
      other.commit();
      await other.done;
    }
  });

  it('the embedded consumer delivers A then B, though B committed first', async () => {
    if (kind === 'pglite') return;
    const delivered: string[] = [];
    const consumer = log.consumer({
      group: 'sink.order',
      topics: ['nova.maker.order.v1'],
      database: sink,
      // A and B are distinct keys: with parallel lanes their order would be the lanes' race, not the log's.
      concurrency: 1,
      async handle(e) {
        delivered.push(e.key);
      },
    });
    await consumer.start();
    try {
      const a = heldWriter(database, [event('maker.order', 'A')]);
      await a.written;
      await database.transaction((tx) => writer.write(tx, [event('maker.order', 'B')]));
      // B's NOTIFY woke the consumer; it must hold B back while A runs.
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(delivered).toEqual([]);
      a.commit();
      await a.done;
      await expect.poll(() => delivered, { timeout: 15_000 }).toEqual(['A', 'B']);
    } finally {
      await consumer.stop(Date.now() + 2000);
    }
  });

  it('parallel writers do not wait for each other, and every committed row is delivered once', async () => {
    const delivered: string[] = [];
    const consumer = log.consumer({
      group: 'sink.parallel',
      topics: ['nova.maker.parallel.v1'],
      database: sink,
      concurrency: 1,
      async handle(e) {
        delivered.push(e.key);
      },
    });
    await consumer.start();
    try {
      const n = kind === 'pglite' ? 50 : 200;
      await Promise.all(
        Array.from({ length: n }, (_, i) =>
          database.transaction(async (tx) => {
            await writer.write(tx, [event('maker.parallel', String(i))]);
            // Interleave commits out of seq order.
            await new Promise((resolve) => setTimeout(resolve, (i * 7) % 13));
          }),
        ),
      );
      await expect.poll(() => delivered.length, { timeout: 10_000 }).toBe(n);
      const inSeqOrder = await database.db
        .selectFrom('outbox')
        .select('aggregateid')
        .where('aggregatetype', '=', 'maker.parallel')
        .orderBy('seq')
        .execute();
      expect(delivered).toEqual(inSeqOrder.map((r) => r.aggregateid));
    } finally {
      await consumer.stop(Date.now() + 2000);
    }
  });
});
