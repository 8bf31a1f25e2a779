import type { PostMedia } from '@nova/contracts';
import { UnprocessableError } from '@nova/kernel';
import type { Kysely } from 'kysely';
import type { MediaAttachments } from '../media-attachments.js';
import type { ContentTables } from '../store/tables.js';
import type { MediaUrls } from './media-urls.js';
import { mediaView } from './queries/media-view.js';
import { mediaRepository } from './store/media-repository.js';
import { withMedia } from './store/media-tables.js';

/**
 * The media side of posts: only the uploader attaches an item, once, and
 * not after it failed; a post shows its items with their variant URLs; an
 * account's deletion marks its items for the collector (blobs included).
 */
export function createMediaAttachments(urls: MediaUrls): MediaAttachments {
  return {
    async assertAttachable(tx: Kysely<ContentTables>, ownerId: string, mediaIds: readonly string[]) {
      if (mediaIds.length === 0) return;
      const ids = [...new Set(mediaIds)];
      if (ids.length !== mediaIds.length)
        throw new UnprocessableError('media_repeated', 'A media item appears twice in the post.');
      const db = withMedia(tx);
      const rows = new Map((await mediaRepository.lockForAttach(db, ids)).map((r) => [r.id, r]));
      // Someone else's item answers as a missing one: ids of others' uploads are not confirmed.
      const missing = ids.filter((id) => rows.get(id)?.owner_id !== ownerId);
      if (missing.length > 0)
        throw new UnprocessableError('media_not_found', 'No such media item of yours exists.', {
          mediaIds: missing,
        });
      const failed = ids.filter((id) => rows.get(id)?.status === 'failed');
      if (failed.length > 0)
        throw new UnprocessableError(
          'media_failed',
          'A media item could not be processed and cannot be posted.',
          {
            mediaIds: failed,
          },
        );
      const attached = ids.filter((id) => rows.get(id)?.attached_at !== null);
      if (attached.length > 0)
        throw new UnprocessableError('media_attached', 'A media item is already part of a post.', {
          mediaIds: attached,
        });
      await mediaRepository.markAttached(db, ids);
    },

    async describe(db: Kysely<ContentTables>, mediaIds: readonly string[]) {
      const rows = await mediaRepository.byIds(withMedia(db), mediaIds);
      const views = await Promise.all(rows.map((row) => mediaView(row, urls)));
      return new Map<string, PostMedia>(views.map((v) => [v.id, v]));
    },

    async purgeOwner(tx: Kysely<ContentTables>, ownerId: string) {
      await mediaRepository.markOwnerDeleted(withMedia(tx), ownerId);
    },
  };
}
