import { CONTENT_MEDIA_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { MediaContext } from '../media-context.js';
import { mediaRepository } from '../store/media-repository.js';

export const MEDIA_UPLOADED_GROUP = 'content.media-uploaded';

/**
 * media.uploaded → the item is queued for the processor (exactly once, with
 * the processed-event record) and the processor is woken. The rendering
 * itself runs outside any transaction: a consumer's transaction is held
 * while its handler runs, and on PGlite that would stop every other query
 * for the seconds a video takes.
 */
export function createMediaUploadedConsumer(ctx: MediaContext, wake: () => void): Worker {
  return ctx.eventLog.consumer(
    typedConsumer({
      group: MEDIA_UPLOADED_GROUP,
      topics: [CONTENT_MEDIA_TOPIC],
      database: ctx.database,
      handlers: {
        async 'media.uploaded'({ payload }, { tx }) {
          await mediaRepository.queue(tx, payload.mediaId);
          // The processor looks once this transaction has committed (a wake that comes early finds nothing and it looks again).
          setTimeout(wake, 20).unref();
        },
      },
      ignore: ['media.ready'],
    }),
  );
}
