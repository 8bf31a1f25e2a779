import { inTransaction } from '@nova/kernel';
import type { LiveContext } from '../context.js';
import { hashStreamKey, isWellFormedKey } from '../domain/stream-key.js';
import { liveEvent } from '../events.js';
import { type StreamRow, streamRepository } from '../store/stream-repository.js';

/** How long a process holds a stream's publish without renewing (it renews every third of it). */
export const INGEST_LEASE_MS = 15_000;

/**
 * What the RTMP ingest asks of the database: one conditional UPDATE per
 * step, so two processes (or two publishers) racing for one stream settle
 * in PostgreSQL, and a crash leaves a lease that simply runs out.
 */
export function createIngestCommands(ctx: LiveContext) {
  return {
    /** The stream this key publishes to, now held by this process; undefined: refuse the publish. */
    async claim(key: string): Promise<StreamRow | undefined> {
      if (!isWellFormedKey(key)) return undefined;
      return streamRepository.claimIngest(ctx.database.db, hashStreamKey(key), ctx.nodeId, INGEST_LEASE_MS);
    },

    /** Video arrived: created → live with stream.started, once. */
    async markLive(streamId: string): Promise<boolean> {
      return inTransaction(ctx.database, async (tx) => {
        const row = await streamRepository.markLive(tx, streamId, ctx.nodeId);
        if (row) await ctx.outbox.write(tx, [liveEvent.started(row)]);
        return row !== undefined;
      });
    },

    /** The streams among `ids` this process still holds (the others ended or were taken over). */
    async renew(ids: readonly string[]): Promise<Set<string>> {
      return new Set(await streamRepository.renewLeases(ctx.database.db, ids, ctx.nodeId, INGEST_LEASE_MS));
    },

    /** The publisher left: the grace period starts. */
    async release(streamId: string): Promise<void> {
      await streamRepository.releaseIngest(ctx.database.db, streamId, ctx.nodeId);
    },

    /**
     * Ends every stream whose publisher has been gone longer than the grace
     * period (left, or its process died and the lease ran out), each with
     * stream.ended. Run by each live process on a timer; the row locks keep
     * two from ending one stream twice.
     */
    async endAbandoned(): Promise<string[]> {
      return inTransaction(ctx.database, async (tx) => {
        const rows = await streamRepository.abandoned(tx, ctx.settings.endGraceMs, 100);
        const ended: StreamRow[] = [];
        for (const row of rows) {
          const done = await streamRepository.end(tx, row.id, 'publisher_stopped');
          if (done) ended.push(done);
        }
        if (ended.length > 0)
          await ctx.outbox.write(
            tx,
            ended.map((row) => liveEvent.ended(row, 'publisher_stopped')),
          );
        return ended.map((row) => row.id);
      });
    },
  };
}

export type IngestCommands = ReturnType<typeof createIngestCommands>;
