import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { inTransaction, UnsupportedMediaTypeError } from '@nova/kernel';
import { detectMediaType, SNIFF_BYTES } from '../domain/media-type.js';
import { originalKey } from '../domain/variants.js';
import type { MediaContext } from '../media-context.js';
import { mediaEvent } from '../media-events.js';
import { mediaRepository } from '../store/media-repository.js';

export interface UploadResult {
  id: string;
  status: 'processing';
}

const ACCEPTED = 'JPEG, PNG, GIF, WebP, HEIF or AVIF images; MP4, QuickTime or WebM videos';

/**
 * Reads the first bytes of a stream without losing them: `head` holds at
 * least `n` bytes (fewer only if the stream is shorter) and `body` replays
 * them followed by the rest. An error of the source surfaces in `body`.
 */
async function peek(source: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; body: Readable }> {
  const iterator = source[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < n) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    chunks.push(next.value);
    length += next.value.length;
  }
  const head = Buffer.concat(chunks);
  const body = Readable.from(
    (async function* () {
      if (head.length > 0) yield head;
      if (done) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    })(),
    { objectMode: false },
  );
  return { head, body };
}

/**
 * An upload: its type is read from its first bytes (415 for anything that
 * is not a supported image or video, whatever its name or declared type),
 * its bytes streamed to the blob store as the original, then the row and
 * media.uploaded commit together. A stream that fails (the size limit, a
 * cut connection) stores nothing and its error is rethrown.
 */
export function createUploadMedia(ctx: MediaContext) {
  return async function uploadMedia(ownerId: string, file: AsyncIterable<Buffer>): Promise<UploadResult> {
    const { head, body } = await peek(file, SNIFF_BYTES);
    const type = detectMediaType(head);
    if (!type) {
      body.destroy();
      throw new UnsupportedMediaTypeError(
        'unsupported_media_type',
        head.length === 0
          ? `The file is empty. Accepted: ${ACCEPTED}.`
          : `The file is not a supported image or video. Accepted: ${ACCEPTED}.`,
      );
    }
    const id = randomUUID();
    const stored = await ctx.blobs.put(originalKey(id), body, { contentType: type.mimeType });
    try {
      await inTransaction(ctx.database, async (tx) => {
        await mediaRepository.insert(tx, {
          id,
          ownerId,
          kind: type.kind,
          mimeType: type.mimeType,
          sizeBytes: stored.size,
        });
        await ctx.outbox.write(tx, [
          mediaEvent.uploaded({
            mediaId: id,
            ownerId,
            kind: type.kind,
            mimeType: type.mimeType,
            sizeBytes: stored.size,
          }),
        ]);
      });
    } catch (error) {
      await ctx.blobs.delete(originalKey(id)).catch(() => undefined);
      throw error;
    }
    ctx.logger.info(
      { mediaId: id, kind: type.kind, mimeType: type.mimeType, bytes: stored.size },
      'media uploaded',
    );
    return { id, status: 'processing' };
  };
}

export type UploadMedia = ReturnType<typeof createUploadMedia>;
