import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { runMigrations } from '../../src/db/migrations.js';
import { FatalError, TransientError } from '../../src/errors/errors.js';
import { listDeadLetters, redriveDeadLetter } from '../../src/events/dead-letter-redrive.js';
import { tableDeadLetterSink } from '../../src/events/dead-letters.js';
import type { EventConsumerSpec, EventRecord } from '../../src/events/event-log.js';
import type { KernelTables } from '../../src/events/kernel-tables.js';
import { createLogger } from '../../src/logging/logger.js';
import { DATABASE_KINDS, openTestDatabases, type TestDatabases } from '../../src/testing/databases.js';

interface Tables extends KernelTables {
  'tredrive.effects': { event_id: string; n: number };
}

describe.each(DATABASE_KINDS)('dead-letter redrive on %s', (kind) => {
  let dbs: TestDatabases;
  let database: Database<Tables>;
  const logger = createLogger('silent');
  const validate = (_type: string, payload: unknown) => {
    if (typeof (payload as { n?: unknown }).n !== 'number') throw new Error('n must be a number');
  };
  // The handler "bug" the operator fixes before redriving: while broken, every event fails.
  let broken = true;
  let transientFailures = 0;
  const spec: EventConsumerSpec<Tables> = {
    group: 'tredrive.g',
    topics: ['nova.tredrive.thing.v1'],
    get database() {
      return database;
    },
    ignores: (type) => type === 'thing.ignored',
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    async handle(event, { tx }) {
      if (broken) throw new FatalError('handler bug');
      if (transientFailures > 0) {
        transientFailures -= 1;
        throw new TransientError('flaky dependency');
      }
      await (tx as unknown as Kysely<Tables>)
        .insertInto('tredrive.effects')
        .values({ event_id: event.id, n: (event.payload as { n: number }).n })
        .execute();
    },
  };
  const options = () => ({ spec, validate, logger });

  beforeAll(async () => {
    dbs = await openTestDatabases(kind);
    database = await dbs.provider.open<Tables>('tredrive');
    await runMigrations(database, '/nonexistent', logger);
    await sql`create table tredrive.effects (event_id uuid not null, n int not null)`.execute(database.db);
  });
  afterAll(async () => {
    await dbs?.close();
  });

  /** Dead-letters an event the way the consumer runtime does (the letter plus its processed record). */
  const deadLetter = async (type = 'thing.happened', payload: unknown = { n: 1 }) => {
    const event: EventRecord = {
      id: randomUUID(),
      topic: 'nova.tredrive.thing.v1',
      key: 'k',
      type,
      payload,
      timestamp: new Date().toISOString(),
    };
    await tableDeadLetterSink(database)({
      group: spec.group,
      event,
      reason: 'FatalError: handler bug',
      attempts: 1,
    });
    const [letter] = (await listDeadLetters(database, { group: spec.group })).filter(
      (l) => l.eventId === event.id,
    );
    if (!letter) throw new Error('no letter');
    return letter;
  };
  const effectsOf = async (eventId: string) =>
    (
      await sql<{ n: number }>`select n from tredrive.effects where event_id = ${eventId}`.execute(
        database.db,
      )
    ).rows;

  it('lists letters with their reason and attempts, then redrives one exactly once', async () => {
    broken = true;
    const letter = await deadLetter('thing.happened', { n: 7 });
    expect(letter).toMatchObject({
      group: spec.group,
      type: 'thing.happened',
      reason: 'FatalError: handler bug',
      attempts: 1,
    });

    // Still broken: the letter stays, with the new failure counted.
    expect(await redriveDeadLetter(options(), letter.id)).toMatchObject({ outcome: 'failed' });
    const [again] = (await listDeadLetters(database, { group: spec.group })).filter(
      (l) => l.id === letter.id,
    );
    expect(again?.attempts).toBe(2);
    expect(await effectsOf(letter.eventId)).toEqual([]);

    broken = false;
    transientFailures = 1; // retried inside the redrive
    expect(await redriveDeadLetter(options(), letter.id)).toEqual({ outcome: 'processed' });
    expect(await effectsOf(letter.eventId)).toEqual([{ n: 7 }]);
    expect((await listDeadLetters(database)).map((l) => l.id)).not.toContain(letter.id);
    expect(await redriveDeadLetter(options(), letter.id)).toEqual({ outcome: 'gone' });
    // The processed record stays: the live consumer will never apply the event again.
    const processed =
      await sql`select 1 from tredrive.processed_events where group_id = ${spec.group} and event_id = ${letter.eventId}`.execute(
        database.db,
      );
    expect(processed.rows).toHaveLength(1);
  });

  it('applies a letter once when many redrives of it race', async () => {
    broken = false;
    const letter = await deadLetter('thing.happened', { n: 3 });
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () => redriveDeadLetter(options(), letter.id)),
    );
    expect(outcomes.filter((o) => o.outcome === 'processed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'gone')).toHaveLength(7);
    expect(await effectsOf(letter.eventId)).toEqual([{ n: 3 }]);
  });

  it('keeps a letter whose payload breaks its contract, and drops one the consumer now ignores', async () => {
    broken = false;
    const bad = await deadLetter('thing.happened', { n: 'seven' });
    expect(await redriveDeadLetter(options(), bad.id)).toMatchObject({
      outcome: 'failed',
      reason: expect.stringContaining('breaks its contract'),
    });
    expect(await effectsOf(bad.eventId)).toEqual([]);
    const ignored = await deadLetter('thing.ignored');
    expect(await redriveDeadLetter(options(), ignored.id)).toEqual({ outcome: 'ignored' });
    expect((await listDeadLetters(database)).map((l) => l.id)).toEqual(
      expect.not.arrayContaining([ignored.id]),
    );
    // Another group's redrive never touches this group's letters.
    expect(
      await redriveDeadLetter({ ...options(), spec: { ...spec, group: 'tredrive.other' } }, bad.id),
    ).toEqual({
      outcome: 'gone',
    });
  });
});
