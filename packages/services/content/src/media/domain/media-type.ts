/** What an upload turned out to be, judged from its first bytes alone. */
export interface DetectedType {
  kind: 'image' | 'video';
  mimeType: string;
}

/** Bytes the detector needs from the start of a file. */
export const SNIFF_BYTES = 32;

const startsWith = (bytes: Uint8Array, signature: readonly number[], offset = 0) =>
  bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);
const ascii = (bytes: Uint8Array, from: number, to: number) =>
  String.fromCharCode(...bytes.subarray(from, to));

// ISO base media (ftyp box) brands: which are still pictures, which are movies.
const IMAGE_BRANDS = new Map([
  ['heic', 'image/heic'],
  ['heix', 'image/heic'],
  ['mif1', 'image/heif'],
  ['avif', 'image/avif'],
]);
const VIDEO_BRANDS = new Map([
  ['isom', 'video/mp4'],
  ['iso2', 'video/mp4'],
  ['mp41', 'video/mp4'],
  ['mp42', 'video/mp4'],
  ['avc1', 'video/mp4'],
  ['dash', 'video/mp4'],
  ['M4V ', 'video/x-m4v'],
  ['qt  ', 'video/quicktime'],
  ['3gp4', 'video/3gpp'],
  ['3gp5', 'video/3gpp'],
]);

/**
 * The media type from the file's magic bytes, never its name or the
 * client's Content-Type: JPEG, PNG, GIF, WebP, HEIF/AVIF stills; MP4,
 * QuickTime, 3GP, WebM/Matroska video. Anything else is undefined (415).
 */
export function detectMediaType(head: Uint8Array): DetectedType | undefined {
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { kind: 'image', mimeType: 'image/jpeg' };
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { kind: 'image', mimeType: 'image/png' };
  if (head.length >= 6 && (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a'))
    return { kind: 'image', mimeType: 'image/gif' };
  if (head.length >= 12 && ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP')
    return { kind: 'image', mimeType: 'image/webp' };
  if (head.length >= 12 && ascii(head, 4, 8) === 'ftyp') {
    const brand = ascii(head, 8, 12);
    const image = IMAGE_BRANDS.get(brand);
    if (image) return { kind: 'image', mimeType: image };
    const video = VIDEO_BRANDS.get(brand);
    if (video) return { kind: 'video', mimeType: video };
    return undefined;
  }
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) return { kind: 'video', mimeType: 'video/webm' };
  return undefined;
}
