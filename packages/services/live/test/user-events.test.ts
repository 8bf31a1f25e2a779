import { Readable } from 'node:stream';
import { AUTH_USER_AGGREGATE, assertEventPayload } from '@nova/contracts';
import type { Worker } from '@nova/kernel';
import { type ConsumerTestBed, DATABASE_KINDS, openConsumerTestBed } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIngestCommands } from '../src/commands/ingest-commands.js';
import { createStreamCommands } from '../src/commands/stream-commands.js';
import { hlsKey } from '../src/domain/hls-files.js';
import { LIVE_MIGRATIONS_DIR } from '../src/index.js';
import { banRepository } from '../src/store/ban-repository.js';
import { streamRepository } from '../src/store/stream-repository.js';
import type { LiveTables } from '../src/store/tables.js';
import { createUserEventsConsumer, USER_EVENTS_GROUP } from '../src/workers/user-events-consumer.js';
import { openLiveFixture } from './support/live-fixture.js';

// The consumer as it runs in production: auth's outbox is the embedded log.
describe.each(DATABASE_KINDS)('live user-events consumer on %s', (kind) => {
  let bed: ConsumerTestBed<LiveTables>;
  let consumer: Worker | undefined;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    bed = await openConsumerTestBed<LiveTables>(kind, {
      consumer: { name: 'live', migrationsDir: LIVE_MIGRATIONS_DIR },
      producer: 'auth',
      validate: assertEventPayload,
    });
  });
  afterAll(async () => {
    await consumer?.stop(Date.now() + 5000);
    await close?.();
    await bed?.close();
  });

  it('ends and removes a deleted account’s streams and recordings, and its bans, and nobody else’s', async () => {
    const fx = await openLiveFixture(kind);
    close = fx.close;
    const ctx = { ...fx.ctx, database: bed.database, eventLog: bed.eventLog, logger: bed.logger };
    const streams = createStreamCommands(ctx, () => 1935);
    const gone = await streams.create('gone', {});
    const ended = await streams.create('gone', {});
    const kept = await streams.create('kept', {});
    const ingest = createIngestCommands(ctx);
    await ingest.claim(gone.streamKey);
    await ingest.markLive(gone.id);
    await streams.end(ended.id, 'gone');
    await banRepository.ban(bed.database.db, kept.id, 'gone');
    for (const id of [gone.id, kept.id])
      await ctx.blobs.put(hlsKey(id, 'index.m3u8'), Readable.from([Buffer.from('#EXTM3U\n')]), {
        contentType: 'application/vnd.apple.mpegurl',
      });

    await bed.publish([
      {
        aggregateType: AUTH_USER_AGGREGATE,
        aggregateId: 'gone',
        type: 'user.deleted',
        payload: { userId: 'gone', deletedAt: new Date().toISOString() },
      },
    ]);
    consumer = createUserEventsConsumer(ctx);
    await consumer.start();
    await expect
      .poll(
        async () => {
          const { rows } = await sql<{ n: string }>`
            SELECT count(*)::text AS n FROM ${sql.table(`${bed.database.schema}.processed_events`)}
             WHERE group_id = ${USER_EVENTS_GROUP}`.execute(bed.database.db);
          return Number(rows[0]?.n);
        },
        { timeout: 15_000, interval: 25 },
      )
      .toBe(1);

    expect(await streamRepository.byIds(bed.database.db, [gone.id, ended.id])).toEqual([]);
    expect((await streamRepository.byId(bed.database.db, kept.id))?.state).toBe('created');
    expect(await ctx.blobs.head(hlsKey(gone.id, 'index.m3u8'))).toBeUndefined();
    expect(await ctx.blobs.head(hlsKey(kept.id, 'index.m3u8'))).toBeDefined();
    expect(await banRepository.isBanned(bed.database.db, kept.id, 'gone')).toBe(false);
    // One stream.ended for the live one (reason account_deleted); the stream that had ended keeps its one.
    const { rows } = await sql<{ payload: { streamId: string; reason: string } }>`
      SELECT payload FROM ${sql.table(`${bed.database.schema}.outbox`)} WHERE type = 'stream.ended' ORDER BY seq`.execute(
      bed.database.db,
    );
    expect(rows.map((r) => [r.payload.streamId, r.payload.reason])).toEqual([
      [ended.id, 'ended_by_owner'],
      [gone.id, 'account_deleted'],
    ]);
  });
});
