import { encode } from 'blurhash';
import sharp, { type Metadata, type OutputInfo, type SharpOptions } from 'sharp';
import { IMAGE_VARIANTS, type VariantName } from '../domain/variants.js';
import { MediaRejectedError } from './media-rejected.js';

export interface RenderedVariant {
  name: VariantName;
  contentType: string;
  width: number;
  height: number;
  bytes: Buffer;
}

export interface ImageResult {
  /** Displayed (auto-oriented) size of the source. */
  width: number;
  height: number;
  blurhash: string;
  variants: RenderedVariant[];
}

export interface ImageLimits {
  /** Most pixels (width × height) a source may declare: a small file can unpack to gigabytes. */
  maxPixels: number;
}

// One libvips thread per image: the worker shares two cores with the HTTP server.
sharp.concurrency(1);
// libvips' operation cache keeps decoded images; a worker that sees each image once gains nothing from it.
sharp.cache(false);

/**
 * A still image → WebP variants, auto-oriented, with no metadata at all (no
 * EXIF, no GPS, no ICC beyond sRGB conversion), plus a blurhash. The source
 * is decoded once, to the largest variant's size (JPEG shrink-on-load makes
 * that cheap); the smaller variants and the blurhash come from those pixels.
 * Anything libvips cannot fully decode (a truncated file, a corrupt one, a
 * bomb over the pixel limit) is a MediaRejectedError with a reason a user
 * can read.
 */
export async function processImage(file: string, limits: ImageLimits): Promise<ImageResult> {
  const options = { limitInputPixels: limits.maxPixels, failOn: 'warning', autoOrient: true } as const;
  let metadata: Metadata;
  try {
    metadata = await sharp(file, { ...options, limitInputPixels: false }).metadata();
  } catch (error) {
    throw new MediaRejectedError('unreadable_image', `The image cannot be read (${reason(error)}).`);
  }
  const pixels = metadata.width * metadata.height * Math.max(1, metadata.pages ?? 1);
  if (pixels > limits.maxPixels) {
    throw new MediaRejectedError(
      'too_many_pixels',
      `The image has ${metadata.width}×${metadata.height} pixels${(metadata.pages ?? 1) > 1 ? ` in ${metadata.pages} frames` : ''}, more than the limit of ${limits.maxPixels}.`,
    );
  }
  const { width, height } = metadata.autoOrient ?? metadata;
  const largest = IMAGE_VARIANTS[IMAGE_VARIANTS.length - 1] as (typeof IMAGE_VARIANTS)[number];
  let base: { data: Buffer; info: OutputInfo };
  try {
    base = await sharp(file, options)
      .resize(largest.width, largest.height, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new MediaRejectedError('corrupt_image', `The image is damaged or incomplete (${reason(error)}).`);
  }
  const raw = { raw: { width: base.info.width, height: base.info.height, channels: base.info.channels } };
  const variants: RenderedVariant[] = [];
  for (const spec of IMAGE_VARIANTS) {
    const { data, info } = await sharp(base.data, raw)
      .resize(spec.width, spec.height, { fit: spec.fit, withoutEnlargement: spec.fit === 'inside' })
      .webp({ quality: 80, effort: 3 })
      .toBuffer({ resolveWithObject: true });
    variants.push({
      name: spec.name,
      contentType: 'image/webp',
      width: info.width,
      height: info.height,
      bytes: data,
    });
  }
  return { width, height, blurhash: await blurhashOf(base.data, raw), variants };
}

/** A 32-pixel-wide miniature is all the hash needs (4×3 components). */
async function blurhashOf(pixels: Buffer, raw: SharpOptions): Promise<string> {
  const { data, info } = await sharp(pixels, raw)
    .resize(32, 32, { fit: 'inside' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return encode(new Uint8ClampedArray(data), info.width, info.height, 4, 3);
}

/** libvips' message, first line, without the file path (a temp file name means nothing to a user). */
export function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return (message.split('\n')[0] ?? message).replace(/\/[^\s:]+/g, 'file').slice(0, 200);
}
