/** The files of a stream's HLS rendition, as served and stored: one playlist and its segments. */
export const PLAYLIST = 'index.m3u8';

const SEGMENT = /^s[a-z0-9]{1,16}-\d{5,9}\.ts$/;

export function isHlsFile(name: string): boolean {
  return name === PLAYLIST || SEGMENT.test(name);
}

/** Where a stream's files live in the blob store. */
export function hlsPrefix(streamId: string): string {
  return `live/${streamId}/`;
}

export function hlsKey(streamId: string, name: string): string {
  return `${hlsPrefix(streamId)}${name}`;
}

export function hlsContentType(name: string): string {
  return name === PLAYLIST ? 'application/vnd.apple.mpegurl' : 'video/mp2t';
}

/**
 * The playlist changes with every segment (no-cache: revalidate each time);
 * a segment's name is never reused (each publish has its own prefix), so
 * its bytes never change.
 */
export function hlsCacheControl(name: string): string {
  return name === PLAYLIST ? 'no-cache' : 'public, max-age=31536000, immutable';
}

/** A segment name prefix unique to one publish of a stream (a resumed publish restarts ffmpeg's numbering). */
export function segmentPrefix(now = Date.now()): string {
  return `s${now.toString(36)}`;
}
