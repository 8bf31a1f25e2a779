import { createScheduledJob, type Worker } from '@nova/kernel';
import type { IngestCommands } from '../commands/ingest-commands.js';
import type { LiveContext } from '../context.js';
import { hlsPrefix } from '../domain/hls-files.js';
import { streamRepository } from '../store/stream-repository.js';

/**
 * Ends streams whose publisher is gone past the grace period. The process
 * holding a publisher ends its stream on its own timer; this is what ends
 * it when that process died (its lease ran out) or the timer was lost to a
 * restart. Every live process runs it; row locks keep the work single.
 */
export function createStreamSweeper(ctx: LiveContext, ingest: IngestCommands, intervalMs = 5000): Worker {
  return createScheduledJob({
    name: 'live.stream-sweeper',
    intervalMs,
    logger: ctx.logger,
    async run() {
      const ended = await ingest.endAbandoned();
      if (ended.length > 0) ctx.logger.info({ streams: ended }, 'abandoned streams ended');
    },
  });
}

/** Removes the HLS files of streams ended longer than the retention ago; the mark is set only once they are gone. */
export async function removeExpiredRecordings(ctx: LiveContext): Promise<number> {
  const ids = await streamRepository.expiredRecordings(
    ctx.database.db,
    ctx.settings.recordingRetentionMs,
    100,
  );
  for (const id of ids) {
    await ctx.blobs.deletePrefix(hlsPrefix(id));
    await streamRepository.markRecordingRemoved(ctx.database.db, id);
  }
  return ids.length;
}

export function createRecordingCollector(ctx: LiveContext, intervalMs = 60_000): Worker {
  return createScheduledJob({
    name: 'live.recording-collector',
    intervalMs,
    runOnStart: true,
    logger: ctx.logger,
    async run() {
      const removed = await removeExpiredRecordings(ctx);
      if (removed > 0) ctx.logger.info({ removed }, 'stream recordings removed');
    },
  });
}
