import type { PostMedia } from '@nova/contracts';
import { UnprocessableError } from '@nova/kernel';
import type { Kysely } from 'kysely';
import type { ContentTables } from './store/tables.js';

type Db = Kysely<ContentTables>;

/**
 * What posts need from the media pipeline, which owns the media table (its
 * migrations run after the posts', so post_media cannot hold a foreign key to
 * it). The pipeline implements this in src/media/ and index.ts passes it in the
 * context; every method runs on content's own database.
 */
export interface MediaAttachments {
  /**
   * Inside the post's transaction: every id is a media item `ownerId`
   * uploaded, usable in a post and attached to no other post; locks them
   * against a concurrent attach. Throws UnprocessableError otherwise.
   */
  assertAttachable(tx: Db, ownerId: string, mediaIds: readonly string[]): Promise<void>;
  /** The media as a post shows them, one query for any number of ids; unknown ids are left out. */
  describe(db: Db, mediaIds: readonly string[]): Promise<Map<string, PostMedia>>;
  /** Inside the account purge's transaction: the account's media go (rows now, blobs as the pipeline decides). */
  purgeOwner(tx: Db, ownerId: string): Promise<void>;
}

/** Until the media pipeline lands, no media id can be attached: there is nothing to own. */
export const noMediaAttachments: MediaAttachments = {
  async assertAttachable(_tx, _ownerId, mediaIds) {
    if (mediaIds.length > 0)
      throw new UnprocessableError('media_not_found', 'No such media item of yours exists.', {
        mediaIds: [...mediaIds],
      });
  },
  async describe() {
    return new Map();
  },
  async purgeOwner() {},
};
