/** The renditions a media item gets; only these are ever served (the original never is: it may carry GPS tags). */
export const IMAGE_VARIANTS = [
  // Square crops for grids, then two sizes that keep the aspect ratio.
  { name: 'thumbnail', width: 320, height: 320, fit: 'cover' },
  { name: 'small', width: 640, height: 640, fit: 'inside' },
  { name: 'large', width: 1600, height: 1600, fit: 'inside' },
] as const;

export type VariantName = (typeof IMAGE_VARIANTS)[number]['name'] | 'poster' | 'mp4';

/** A stored rendition, as the media row records it. */
export interface StoredVariant {
  key: string;
  contentType: string;
  width: number;
  height: number;
  size: number;
  etag: string;
}

export type Variants = Partial<Record<VariantName, StoredVariant>>;

const VARIANT_NAME = /^(thumbnail|small|large|poster|mp4)$/;
export const isVariantName = (name: string): name is VariantName => VARIANT_NAME.test(name);

/** Where a media item's blobs live: everything of one item under one prefix, deleted together. */
export const mediaPrefix = (mediaId: string) => `media/${mediaId}/`;
export const originalKey = (mediaId: string) => `media/${mediaId}/original`;
export const variantKey = (mediaId: string, name: VariantName) =>
  `media/${mediaId}/${name}.${name === 'mp4' ? 'mp4' : 'webp'}`;

/** Oriented dimensions: EXIF orientations 5–8 turn the stored picture a quarter. */
export function orientedSize(width: number, height: number, orientation: number | undefined) {
  return orientation !== undefined && orientation >= 5 ? { width: height, height: width } : { width, height };
}
