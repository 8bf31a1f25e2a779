import { createScheduledJob, type Worker } from '@nova/kernel';
import { mediaPrefix } from '../domain/variants.js';
import type { MediaContext } from '../media-context.js';
import { mediaRepository } from '../store/media-repository.js';

const TEN_MINUTES_MS = 10 * 60 * 1000;
const BATCH = 100;

/**
 * Removes media no one will see: uploads no post attached within
 * MEDIA_UNATTACHED_HOURS, and every item of a deleted account. The row goes
 * first (only if still collectable: an attach may have won the race), then
 * its blobs; a blob delete that fails leaves bytes no row points to, never
 * a row whose bytes are gone.
 */
export async function collectMedia(ctx: MediaContext, now = new Date()): Promise<number> {
  const cutoff = new Date(now.getTime() - ctx.settings.unattachedMs);
  let removed = 0;
  for (;;) {
    const batch = await mediaRepository.collectable(ctx.database.db, cutoff, BATCH);
    for (const { id } of batch) {
      if (!(await mediaRepository.removeIfCollectable(ctx.database.db, id, cutoff))) continue;
      await ctx.blobs.deletePrefix(mediaPrefix(id));
      removed += 1;
    }
    if (batch.length < BATCH) return removed;
  }
}

export function createMediaCollector(ctx: MediaContext, intervalMs = TEN_MINUTES_MS): Worker {
  return createScheduledJob({
    name: 'content.media-collector',
    intervalMs,
    runOnStart: true,
    logger: ctx.logger,
    async run() {
      const removed = await collectMedia(ctx);
      if (removed > 0) ctx.logger.info({ removed }, 'media collected');
    },
  });
}
