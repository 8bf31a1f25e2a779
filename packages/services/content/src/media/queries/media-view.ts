import type { Media } from '@nova/contracts';
import type { Variants } from '../domain/variants.js';
import type { MediaUrls } from '../media-urls.js';
import type { MediaRow } from '../store/media-repository.js';

/** A media row as clients see it; the failure reason only for its owner. */
export async function mediaView(row: MediaRow, urls: MediaUrls, viewerId?: string): Promise<Media> {
  const ready = row.status === 'ready';
  return {
    id: row.id,
    kind: row.kind,
    mimeType: row.mime_type,
    status: row.status,
    width: row.width,
    height: row.height,
    durationMs: row.duration_ms,
    blurhash: row.blurhash,
    variants: ready ? await urls.variants(row.id, row.variants as Variants) : {},
    ...(row.status === 'failed' && viewerId === row.owner_id
      ? {
          failure: { code: row.failure_code ?? 'failed', reason: row.failure_reason ?? 'Processing failed.' },
        }
      : {}),
  };
}
