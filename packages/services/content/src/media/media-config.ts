import { EnvInt } from '@nova/kernel';

/** The media pipeline's keys, part of content's configuration (src/config.ts). */
export const MediaEnv = {
  MEDIA_MAX_BYTES: EnvInt(
    1024,
    4 * 1024 * 1024 * 1024,
    100 * 1024 * 1024,
    'largest accepted upload in bytes (413 above)',
  ),
  MEDIA_MAX_PIXELS: EnvInt(
    1_000_000,
    1_000_000_000,
    50_000_000,
    'most pixels (width × height × frames) an image may declare; above it the item fails (decompression bombs)',
  ),
  MEDIA_VIDEO_MAX_SECONDS: EnvInt(1, 86_400, 600, 'longest accepted video; longer ones fail'),
  MEDIA_PROCESS_TIMEOUT_SECONDS: EnvInt(
    5,
    86_400,
    300,
    'wall-clock limit of each ffmpeg/ffprobe run; past it the item fails',
  ),
  MEDIA_UNATTACHED_HOURS: EnvInt(1, 87_600, 24, 'uploads no post has attached are collected after this'),
} as const;

export interface MediaSettings {
  maxBytes: number;
  maxPixels: number;
  videoMaxSeconds: number;
  processTimeoutMs: number;
  unattachedMs: number;
}

export function deriveMediaSettings(values: {
  MEDIA_MAX_BYTES: number;
  MEDIA_MAX_PIXELS: number;
  MEDIA_VIDEO_MAX_SECONDS: number;
  MEDIA_PROCESS_TIMEOUT_SECONDS: number;
  MEDIA_UNATTACHED_HOURS: number;
}): MediaSettings {
  return {
    maxBytes: values.MEDIA_MAX_BYTES,
    maxPixels: values.MEDIA_MAX_PIXELS,
    videoMaxSeconds: values.MEDIA_VIDEO_MAX_SECONDS,
    processTimeoutMs: values.MEDIA_PROCESS_TIMEOUT_SECONDS * 1000,
    unattachedMs: values.MEDIA_UNATTACHED_HOURS * 3_600_000,
  };
}

/** The defaults, for tests that build a context by hand. */
export const DEFAULT_MEDIA_SETTINGS: MediaSettings = deriveMediaSettings({
  MEDIA_MAX_BYTES: MediaEnv.MEDIA_MAX_BYTES.default as number,
  MEDIA_MAX_PIXELS: MediaEnv.MEDIA_MAX_PIXELS.default as number,
  MEDIA_VIDEO_MAX_SECONDS: MediaEnv.MEDIA_VIDEO_MAX_SECONDS.default as number,
  MEDIA_PROCESS_TIMEOUT_SECONDS: MediaEnv.MEDIA_PROCESS_TIMEOUT_SECONDS.default as number,
  MEDIA_UNATTACHED_HOURS: MediaEnv.MEDIA_UNATTACHED_HOURS.default as number,
});
