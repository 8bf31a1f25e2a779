import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobNotFoundError, inTransaction } from '@nova/kernel';
import { mediaPrefix, originalKey, type VariantName, type Variants, variantKey } from '../domain/variants.js';
import type { MediaContext } from '../media-context.js';
import { mediaEvent } from '../media-events.js';
import { processImage, type RenderedVariant } from '../processing/image-pipeline.js';
import { MediaRejectedError } from '../processing/media-rejected.js';
import { processVideo } from '../processing/video-pipeline.js';
import { type MediaRow, mediaRepository, type ProcessedMedia } from '../store/media-repository.js';

export type ProcessOutcome = { status: 'ready' } | { status: 'failed'; code: string; reason: string };

/**
 * One leased item, start to end: the original is copied to a scratch
 * directory, rendered (sharp for images, ffmpeg for video), the variants
 * stored, then the row and media.ready commit together; the original (which
 * may carry GPS tags) is deleted afterwards. A MediaRejectedError (or an
 * original missing from the store) ends the item `failed` with its reason;
 * any other error (blob store or database down) is thrown, and the item is
 * retried when its lease runs out.
 */
export function createProcessMedia(ctx: MediaContext) {
  const { settings } = ctx;

  async function storeVariant(
    id: string,
    variant: RenderedVariant,
    variants: Variants,
    name: VariantName = variant.name,
  ) {
    const key = variantKey(id, name);
    const info = await ctx.blobs.put(key, Readable.from([variant.bytes]), {
      contentType: variant.contentType,
    });
    variants[name] = {
      key,
      contentType: variant.contentType,
      width: variant.width,
      height: variant.height,
      size: info.size,
      etag: info.etag,
    };
  }

  async function render(row: MediaRow, dir: string): Promise<ProcessedMedia> {
    const source = path.join(dir, 'original');
    const { body } = await ctx.blobs.get(originalKey(row.id)).catch((error: unknown) => {
      // The upload stores the original before it commits the row, so a missing one never comes back:
      // failing now beats holding the item for three leases. Seen when content processes do not share one store.
      if (error instanceof BlobNotFoundError)
        throw new MediaRejectedError(
          'original_missing',
          'the uploaded original is not in the blob store (every content process must share one store: S3_BUCKET)',
        );
      throw error;
    });
    await pipeline(body, createWriteStream(source));
    const variants: Variants = {};
    if (row.kind === 'image') {
      const image = await processImage(source, { maxPixels: settings.maxPixels });
      for (const variant of image.variants) await storeVariant(row.id, variant, variants);
      return {
        width: image.width,
        height: image.height,
        durationMs: null,
        blurhash: image.blurhash,
        variants,
      };
    }
    const video = await processVideo(source, dir, {
      maxSeconds: settings.videoMaxSeconds,
      timeoutMs: settings.processTimeoutMs,
      // A rendition never needs to be much larger than an accepted upload.
      maxOutputBytes: settings.maxBytes * 2,
    });
    const poster = await processImage(video.posterFile, { maxPixels: settings.maxPixels });
    for (const variant of poster.variants) {
      if (variant.name === 'large') await storeVariant(row.id, variant, variants, 'poster');
      else await storeVariant(row.id, variant, variants);
    }
    const mp4Key = variantKey(row.id, 'mp4');
    const mp4 = await ctx.blobs.put(mp4Key, createReadStream(video.mp4File), { contentType: 'video/mp4' });
    variants.mp4 = {
      key: mp4Key,
      contentType: 'video/mp4',
      width: video.mp4Width,
      height: video.mp4Height,
      size: mp4.size,
      etag: mp4.etag,
    };
    return {
      width: video.width,
      height: video.height,
      durationMs: video.durationMs,
      blurhash: poster.blurhash,
      variants,
    };
  }

  return async function processMedia(row: MediaRow): Promise<ProcessOutcome> {
    const dir = path.join(ctx.workDir, row.id);
    await fs.mkdir(dir, { recursive: true });
    try {
      let result: ProcessedMedia;
      try {
        result = await render(row, dir);
      } catch (error) {
        if (!(error instanceof MediaRejectedError)) throw error;
        await mediaRepository.fail(ctx.database.db, row.id, error.code, error.message);
        // Nothing of a failed item is ever served: its original and any variant made go now.
        await ctx.blobs.deletePrefix(mediaPrefix(row.id));
        ctx.logger.info({ mediaId: row.id, code: error.code, reason: error.message }, 'media failed');
        return { status: 'failed', code: error.code, reason: error.message };
      }
      const done = await inTransaction(ctx.database, async (tx) => {
        const updated = await mediaRepository.complete(tx, row.id, result);
        if (!updated) return false;
        await ctx.outbox.write(tx, [
          mediaEvent.ready({
            mediaId: row.id,
            ownerId: row.owner_id,
            kind: row.kind,
            width: result.width,
            height: result.height,
            durationMs: result.durationMs,
            blurhash: result.blurhash,
            variants: Object.keys(result.variants),
          }),
        ]);
        return true;
      });
      await ctx.blobs.delete(originalKey(row.id));
      if (done) ctx.logger.info({ mediaId: row.id, kind: row.kind }, 'media ready');
      return { status: 'ready' };
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  };
}

export type ProcessMedia = ReturnType<typeof createProcessMedia>;
