import { API_PREFIX, type BlobStore } from '@nova/kernel';
import type { StoredVariant, VariantName, Variants } from './domain/variants.js';

// Presigned URLs are minted per read; an hour outlives any page a client shows.
const PRESIGNED_SECONDS = 3600;

export interface MediaUrls {
  /** name → URL of every variant an item has. */
  variants(mediaId: string, variants: Variants): Promise<Record<string, string>>;
}

/**
 * Where clients fetch variants: presigned URLs straight from the bucket when
 * the blob store has them (S3), else Nova's own immutable variant route
 * (`/api/v1/media/{id}/variants/{name}`) under NOVA_PUBLIC_URL.
 */
export function createMediaUrls(blobs: BlobStore, publicUrl: string): MediaUrls {
  return {
    async variants(mediaId, variants) {
      const entries = Object.entries(variants) as Array<[VariantName, StoredVariant]>;
      const urls = await Promise.all(
        entries.map(async ([name, variant]) =>
          blobs.presignedUrl
            ? blobs.presignedUrl(variant.key, PRESIGNED_SECONDS)
            : `${publicUrl}${API_PREFIX}/media/${mediaId}/variants/${name}`,
        ),
      );
      return Object.fromEntries(entries.map(([name], i) => [name, urls[i] as string]));
    },
  };
}
