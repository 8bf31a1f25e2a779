import fs from 'node:fs/promises';
import path from 'node:path';
import { MediaRejectedError } from './media-rejected.js';
import { runTool, ToolFailedError, ToolTimeoutError } from './run-tool.js';

export interface VideoLimits {
  /** Longest accepted video. */
  maxSeconds: number;
  /** Wall-clock limit of each ffmpeg/ffprobe run. */
  timeoutMs: number;
  /** Largest rendition ffmpeg may write (its -fs). */
  maxOutputBytes: number;
}

export interface VideoResult {
  width: number;
  height: number;
  durationMs: number;
  /** H.264/AAC MP4, at most 720 lines on its short side, faststart. */
  mp4File: string;
  mp4Width: number;
  mp4Height: number;
  /** A still frame (PNG) for the poster variants. */
  posterFile: string;
}

interface Probe {
  streams?: Array<{
    codec_type?: string;
    width?: number;
    height?: number;
    tags?: { rotate?: string };
    side_data_list?: Array<{ rotation?: number }>;
  }>;
  format?: { duration?: string };
}

/** The displayed size: phone videos are often stored sideways with a rotation tag. */
function displayed(stream: NonNullable<Probe['streams']>[number]): { width: number; height: number } {
  const rotation = Math.abs(
    Number(
      stream.tags?.rotate ?? stream.side_data_list?.find((s) => s.rotation !== undefined)?.rotation ?? 0,
    ),
  );
  const w = stream.width ?? 0;
  const h = stream.height ?? 0;
  return rotation % 180 === 90 ? { width: h, height: w } : { width: w, height: h };
}

/** Capped to 720 on the short side, even dimensions (H.264 4:2:0 needs them). */
export function renditionSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, 720 / Math.min(width, height));
  const even = (n: number) => Math.max(2, Math.round((n * scale) / 2) * 2);
  return { width: even(width), height: even(height) };
}

function toolError(step: string, error: unknown): never {
  if (error instanceof ToolTimeoutError)
    throw new MediaRejectedError('processing_timeout', `The video took too long to ${step}.`);
  if (error instanceof ToolFailedError) {
    const last =
      error.stderr
        .trim()
        .split('\n')
        .at(-1)
        ?.replace(/\/[^\s:]+/g, 'file')
        .slice(0, 200) ?? '';
    throw new MediaRejectedError(
      'corrupt_video',
      `The video cannot be ${step === 'read' ? 'read' : 'converted'} (${last || `exit ${error.exitCode}`}).`,
    );
  }
  throw error;
}

/**
 * A video → an H.264/AAC MP4 rendition (≤ 720p, the source's audio if it has
 * any) and a poster frame, with ffprobe/ffmpeg as child processes under a
 * time limit. Files the tools cannot read, with no video stream or longer
 * than the limit are MediaRejectedErrors. Output files are written in `dir`.
 */
export async function processVideo(file: string, dir: string, limits: VideoLimits): Promise<VideoResult> {
  let probe: Probe;
  try {
    const { stdout } = await runTool(
      'ffprobe',
      ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file],
      limits.timeoutMs,
    );
    probe = JSON.parse(stdout) as Probe;
  } catch (error) {
    toolError('read', error);
  }
  const video = probe.streams?.find((s) => s.codec_type === 'video');
  if (!video?.width || !video.height)
    throw new MediaRejectedError('no_video_stream', 'The file has no video stream.');
  const hasAudio = probe.streams?.some((s) => s.codec_type === 'audio') ?? false;
  const seconds = Number(probe.format?.duration ?? Number.NaN);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new MediaRejectedError('corrupt_video', 'The video has no readable duration.');
  if (seconds > limits.maxSeconds)
    throw new MediaRejectedError(
      'too_long',
      `The video lasts ${Math.round(seconds)} s, more than the limit of ${limits.maxSeconds} s.`,
    );
  const { width, height } = displayed(video);
  const rendition = renditionSize(width, height);
  const mp4File = path.join(dir, 'rendition.mp4');
  const posterFile = path.join(dir, 'poster.png');
  try {
    await runTool(
      'ffmpeg',
      [
        ...['-nostdin', '-v', 'error', '-y', '-i', file],
        ...['-map', '0:v:0', ...(hasAudio ? ['-map', '0:a:0'] : [])],
        ...[
          '-vf',
          `scale=${rendition.width}:${rendition.height}`,
          '-c:v',
          'libx264',
          '-preset',
          'veryfast',
          '-crf',
          '23',
        ],
        ...['-pix_fmt', 'yuv420p', '-threads', '2'],
        ...(hasAudio ? ['-c:a', 'aac', '-b:a', '128k', '-ac', '2'] : []),
        ...['-map_metadata', '-1', '-movflags', '+faststart', '-fs', String(limits.maxOutputBytes), mp4File],
      ],
      limits.timeoutMs,
    );
    // One second in (the first frame is often black), or the middle of a shorter clip.
    const at = Math.min(1, seconds / 2).toFixed(3);
    await runTool(
      'ffmpeg',
      [
        '-nostdin',
        '-v',
        'error',
        '-y',
        '-ss',
        at,
        '-i',
        file,
        '-frames:v',
        '1',
        '-vf',
        `scale=${rendition.width}:${rendition.height}`,
        posterFile,
      ],
      limits.timeoutMs,
    );
  } catch (error) {
    toolError('convert', error);
  }
  const stat = await fs.stat(mp4File);
  if (stat.size >= limits.maxOutputBytes)
    throw new MediaRejectedError('too_large', 'The converted video is larger than the limit.');
  return {
    width,
    height,
    durationMs: Math.round(seconds * 1000),
    mp4File,
    mp4Width: rendition.width,
    mp4Height: rendition.height,
    posterFile,
  };
}
