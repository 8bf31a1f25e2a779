import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { runMigrations } from '../../src/db/migrations.js';
import { pruneEmbeddedOutbox } from '../../src/events/embedded-retention.js';
import type { KernelTables } from '../../src/events/kernel-tables.js';
import { createLogger } from '../../src/logging/logger.js';
import { DATABASE_KINDS, openTestDatabases, type TestDatabases } from '../../src/testing/databases.js';

const DAY = 24 * 3600_000;

describe.each(DATABASE_KINDS)('embedded outbox retention on %s', (kind) => {
  let dbs: TestDatabases;
  let producer: Database<KernelTables>;
  let consumer: Database<KernelTables>;

  beforeAll(async () => {
    dbs = await openTestDatabases(kind);
    producer = await dbs.provider.open<KernelTables>('maker');
    consumer = await dbs.provider.open<KernelTables>('reader');
    for (const db of [producer, consumer]) await runMigrations(db, '/nonexistent', createLogger('silent'));
  });
  afterAll(() => dbs.close());

  const insert = (aggregatetype: string, ageMs: number) =>
    producer.db
      .insertInto('outbox')
      .values({
        id: crypto.randomUUID(),
        aggregatetype,
        aggregateid: 'k',
        type: 'thing.made',
        payload: JSON.stringify({ n: 1 }),
        timestamp: new Date(Date.now() - ageMs),
      })
      .returning('seq')
      .executeTakeFirstOrThrow();
  const remaining = async (aggregatetype: string) =>
    (
      await producer.db
        .selectFrom('outbox')
        .select('seq')
        .where('aggregatetype', '=', aggregatetype)
        .orderBy('seq')
        .execute()
    ).map((r) => Number(r.seq));

  it('prunes only rows past the retention that every group has checkpointed', async () => {
    const [a, b, c, d] = [
      await insert('maker.thing', 10 * DAY),
      await insert('maker.thing', 9 * DAY),
      await insert('maker.thing', 8 * DAY),
      await insert('maker.thing', 1 * DAY),
    ];
    const topic = 'nova.maker.thing.v1';
    await consumer.db
      .insertInto('consumer_offsets')
      .values({ group_id: 'reader.g', topic, partition: 0, position: Number(b.seq) })
      .execute();
    const readers = [{ group: 'reader.g', topics: [topic], database: consumer as Database<unknown> }];

    // A second group without a checkpoint holds the whole topic.
    const holding = [
      ...readers,
      { group: 'reader.new', topics: [topic], database: consumer as Database<unknown> },
    ];
    expect(await pruneEmbeddedOutbox(producer as Database<unknown>, holding, 7 * DAY)).toBe(0);

    expect(await pruneEmbeddedOutbox(producer as Database<unknown>, readers, 7 * DAY)).toBe(2);
    // c is old but not consumed yet; d is consumed-or-not but young.
    expect(await remaining('maker.thing')).toEqual([Number(c.seq), Number(d.seq)]);
    expect(Number(a.seq)).toBeLessThan(Number(c.seq));
  });

  it('prunes a topic nobody reads by age alone', async () => {
    await insert('maker.unread', 30 * DAY);
    const young = await insert('maker.unread', 0);
    await pruneEmbeddedOutbox(producer as Database<unknown>, [], 7 * DAY);
    expect(await remaining('maker.unread')).toEqual([Number(young.seq)]);
  });
});
