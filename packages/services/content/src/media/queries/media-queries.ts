import type { Media } from '@nova/contracts';
import { NotFoundError } from '@nova/kernel';
import type { MediaContext } from '../media-context.js';
import { mediaRepository } from '../store/media-repository.js';
import { mediaView } from './media-view.js';

export interface MediaQueries {
  /** One item: its owner sees it in any state; others only once it is ready (else 404). */
  getOne(id: string, viewerId?: string): Promise<Media>;
  /** Items in the order asked, unknown or not-ready-and-not-yours left out; one query. */
  getMany(ids: readonly string[], viewerId?: string): Promise<Media[]>;
}

export function createMediaQueries(ctx: MediaContext): MediaQueries {
  const mayView = (row: { owner_id: string; status: string }, viewerId?: string) =>
    row.status === 'ready' || row.owner_id === viewerId;
  return {
    async getOne(id, viewerId) {
      const [row] = await mediaRepository.byIds(ctx.database.db, [id]);
      if (!row || !mayView(row, viewerId)) throw new NotFoundError('media_not_found', 'No such media item.');
      return mediaView(row, ctx.urls, viewerId);
    },
    async getMany(ids, viewerId) {
      const rows = await mediaRepository.byIds(ctx.database.db, ids);
      const byId = new Map(rows.filter((r) => mayView(r, viewerId)).map((r) => [r.id, r]));
      const ordered = [...new Set(ids)].flatMap((id) => {
        const row = byId.get(id);
        return row ? [row] : [];
      });
      return Promise.all(ordered.map((row) => mediaView(row, ctx.urls, viewerId)));
    },
  };
}
