import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { BlobStore, Logger } from '@nova/kernel';
import Flv from 'node-media-server/src/protocol/flv.js';
import { PLAYLIST, segmentPrefix } from '../domain/hls-files.js';
import { HlsUploader } from './hls-uploader.js';
import type { AVPacket } from './rtmp-publish-session.js';

const FLV_AUDIO = 8;
const FLV_VIDEO = 9;
const FLV_CODEC_H264 = 7;
/** AVPacket.flags of a video sequence header (codec configuration, no picture). */
const FLV_VIDEO_HEADER = 2;
const FLV_CODEC_AAC = 10;
/** Target segment length; copied video cuts at the publisher's key frames, so its GOP decides. */
const SEGMENT_SECONDS = 2;
/** Packets kept before ffmpeg starts (audio ahead of the first video packet). */
const MAX_EARLY_PACKETS = 500;
const STOP_TIMEOUT_MS = 10_000;

export interface PackagerOptions {
  streamId: string;
  workDir: string;
  blobs: BlobStore;
  logger: Logger;
  /** ffmpeg cannot keep up: stop (true) or resume (false) reading from the publisher. */
  backpressure(paused: boolean): void;
  onPlaylist(): void;
}

/** How ffmpeg treats each track: copy what HLS can carry, transcode the rest. */
export interface CodecPlan {
  video: 'copy' | 'transcode';
  audio: 'copy' | 'transcode' | 'none';
}

export function planCodecs(videoCodecId: number, audioCodecId: number | undefined): CodecPlan {
  return {
    video: videoCodecId === FLV_CODEC_H264 ? 'copy' : 'transcode',
    audio: audioCodecId === undefined ? 'none' : audioCodecId === FLV_CODEC_AAC ? 'copy' : 'transcode',
  };
}

export function ffmpegArguments(plan: CodecPlan, dir: string, prefix: string): string[] {
  const video =
    plan.video === 'copy'
      ? ['-c:v', 'copy']
      : [
          ...['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p'],
          ...['-force_key_frames', `expr:gte(t,n_forced*${SEGMENT_SECONDS})`],
        ];
  const audio =
    plan.audio === 'none'
      ? []
      : ['-map', '0:a:0?', ...(plan.audio === 'copy' ? ['-c:a', 'copy'] : ['-c:a', 'aac'])];
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin'],
    ...['-f', 'flv', '-i', 'pipe:0', '-map', '0:v:0', ...video, ...audio],
    ...['-f', 'hls', '-hls_time', String(SEGMENT_SECONDS), '-hls_playlist_type', 'event'],
    ...['-hls_flags', 'independent_segments+temp_file'],
    ...['-hls_segment_filename', path.join(dir, `${prefix}-%05d.ts`), path.join(dir, PLAYLIST)],
  ];
}

/**
 * One publish turned into HLS: the FLV tags the publisher sends are piped
 * into ffmpeg, which writes a playlist and segments into a work directory;
 * an uploader copies them to the blob store as they appear. ffmpeg starts
 * at the first coded video frame, when the codecs of both tracks are known.
 */
export class HlsPackager {
  #ffmpeg: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #uploader: HlsUploader | undefined;
  #audioCodec: number | undefined;
  #videoCodec: number | undefined;
  #early: Buffer[] = [];
  #stopping = false;
  readonly #dir: string;
  readonly #prefix = segmentPrefix();
  plan: CodecPlan | undefined;

  constructor(private readonly options: PackagerOptions) {
    this.#dir = path.join(options.workDir, options.streamId, this.#prefix);
  }

  write(packet: AVPacket): void {
    if (this.#stopping || (packet.codec_type !== FLV_AUDIO && packet.codec_type !== FLV_VIDEO)) return;
    const tag = Flv.createMessage(packet);
    if (!this.#ffmpeg) {
      if (packet.codec_type === FLV_AUDIO) this.#audioCodec ??= packet.codec_id;
      // Encoders send the video header, then the audio header, then frames: the first
      // coded video frame is when both tracks are known.
      const firstFrame = packet.codec_type === FLV_VIDEO && packet.flags !== FLV_VIDEO_HEADER;
      if (!firstFrame && this.#early.length < MAX_EARLY_PACKETS) {
        if (packet.codec_type === FLV_VIDEO) this.#videoCodec = packet.codec_id;
        this.#early.push(tag);
        return;
      }
      this.#start(planCodecs(this.#videoCodec ?? packet.codec_id, this.#audioCodec));
    }
    this.#send(tag);
  }

  /** The publisher is gone: ffmpeg finishes the playlist (#EXT-X-ENDLIST), the rest is uploaded, the directory removed. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const ffmpeg = this.#ffmpeg;
    if (ffmpeg) {
      ffmpeg.stdin?.end();
      const killer = setTimeout(() => ffmpeg.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.#exited;
      clearTimeout(killer);
      await this.#uploader?.finish();
    }
    await rm(path.join(this.options.workDir, this.options.streamId), { recursive: true, force: true });
  }

  #start(plan: CodecPlan): void {
    this.plan = plan;
    const { logger, streamId } = this.options;
    // The directory and its watch exist before ffmpeg can write a file into it.
    mkdirSync(this.#dir, { recursive: true });
    this.#uploader = new HlsUploader(
      this.#dir,
      streamId,
      this.options.blobs,
      logger,
      this.options.onPlaylist,
    );
    this.#uploader.start();
    const ffmpeg = spawn('ffmpeg', ffmpegArguments(plan, this.#dir, this.#prefix), {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    this.#ffmpeg = ffmpeg;
    let stderr = '';
    ffmpeg.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-2000);
    });
    ffmpeg.stdin?.on('error', () => undefined); // ffmpeg gone: its exit is logged below
    ffmpeg.stdin?.on('drain', () => this.options.backpressure(false));
    this.#exited = new Promise((resolve) => {
      ffmpeg.on('error', (error) => {
        logger.error({ err: error, streamId }, 'ffmpeg could not start');
        resolve();
      });
      ffmpeg.on('exit', (code, signal) => {
        if (code !== 0 && !this.#stopping) logger.error({ streamId, code, signal, stderr }, 'ffmpeg stopped');
        resolve();
      });
    });
    logger.info({ streamId, plan }, 'HLS packaging started');
    this.#send(Flv.createHeader(this.#audioCodec !== undefined, true));
    for (const tag of this.#early.splice(0)) this.#send(tag);
  }

  #send(bytes: Buffer): void {
    const stdin = this.#ffmpeg?.stdin;
    if (!stdin || stdin.destroyed) return;
    if (!stdin.write(bytes)) this.options.backpressure(true);
  }
}
