import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectMediaType } from '../../src/media/domain/media-type.js';
import { processImage } from '../../src/media/processing/image-pipeline.js';
import { MediaRejectedError } from '../../src/media/processing/media-rejected.js';
import { processVideo, renditionSize } from '../../src/media/processing/video-pipeline.js';
import { jpegWithGps, mp4, pngBomb } from './fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nova-media-pipeline-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const write = async (name: string, bytes: Buffer) => {
  const file = path.join(dir, name);
  await fs.writeFile(file, bytes);
  return file;
};

describe('type detection from the bytes', () => {
  it('knows images and videos by their magic bytes, not their names', async () => {
    expect(detectMediaType(await jpegWithGps(20, 20))).toEqual({ kind: 'image', mimeType: 'image/jpeg' });
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: 'red' } })
      .png()
      .toBuffer();
    expect(detectMediaType(png)?.mimeType).toBe('image/png');
    const webp = await sharp(png).webp().toBuffer();
    expect(detectMediaType(webp)?.mimeType).toBe('image/webp');
    const video = await fs.readFile(await mp4(dir, 1, { audio: false, size: '64x64' }));
    expect(detectMediaType(video)).toEqual({ kind: 'video', mimeType: 'video/mp4' });
    expect(detectMediaType(Buffer.from('just some text, named photo.png'))).toBeUndefined();
    expect(detectMediaType(Buffer.from('%PDF-1.7\n'))).toBeUndefined();
    expect(detectMediaType(Buffer.alloc(0))).toBeUndefined();
  });
});

describe('image pipeline', () => {
  it('auto-orients, strips EXIF and GPS, and renders WebP variants with a blurhash', async () => {
    // Stored 1200×800 with orientation 6: displayed 800×1200.
    const file = await write('gps.jpg', await jpegWithGps(1200, 800, 6));
    const source = await sharp(file).metadata();
    expect(source.exif).toBeDefined();
    expect(source.orientation).toBe(6);
    const result = await processImage(file, { maxPixels: 50_000_000 });
    expect(result).toMatchObject({ width: 800, height: 1200 });
    expect(result.blurhash).toMatch(/^[0-9A-Za-z#$%*+,-.:;=?@[\]^_{|}~]{20,}$/);
    const byName = Object.fromEntries(result.variants.map((v) => [v.name, v]));
    expect(byName.thumbnail).toMatchObject({ width: 320, height: 320 });
    expect(byName.small).toMatchObject({ width: 427, height: 640 });
    expect(byName.large).toMatchObject({ width: 800, height: 1200 });
    for (const variant of result.variants) {
      const meta = await sharp(variant.bytes).metadata();
      expect(meta.format).toBe('webp');
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(variant.bytes.includes(Buffer.from('NovaCam'))).toBe(false);
      expect(meta.orientation ?? 1).toBe(1);
    }
  });

  it('refuses a decompression bomb from its header, before decoding it', async () => {
    const bomb = pngBomb();
    expect(bomb.length).toBeLessThan(2_000_000);
    const file = await write('bomb.png', bomb);
    const error = await processImage(file, { maxPixels: 50_000_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaRejectedError);
    expect((error as MediaRejectedError).code).toBe('too_many_pixels');
    expect((error as Error).message).toMatch(/30000×30000/);
  });

  it('fails a truncated image with a reason', async () => {
    const whole = await jpegWithGps(800, 600, 1);
    const file = await write('truncated.jpg', whole.subarray(0, Math.floor(whole.length / 2)));
    const error = await processImage(file, { maxPixels: 50_000_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MediaRejectedError);
    expect((error as Error).message).toMatch(/damaged|incomplete|cannot be read/);
  });
});

describe('video pipeline', () => {
  it('makes an H.264/AAC MP4 capped at 720p and a poster frame, with the duration', async () => {
    // 4:3 at 960 lines: the cap (720 on the short side) applies, and the transcode stays short on a busy machine.
    const source = await mp4(dir, 1, { size: '1280x960' });
    const out = await fs.mkdtemp(path.join(dir, 'out-'));
    const result = await processVideo(source, out, {
      maxSeconds: 60,
      timeoutMs: 120_000,
      maxOutputBytes: 50_000_000,
    });
    expect(result).toMatchObject({ width: 1280, height: 960, mp4Width: 960, mp4Height: 720 });
    expect(result.durationMs).toBeGreaterThan(900);
    expect(result.durationMs).toBeLessThan(1200);
    const { execFile } = await import('node:child_process');
    const probe = await new Promise<string>((resolve, reject) =>
      execFile(
        'ffprobe',
        ['-v', 'error', '-show_entries', 'stream=codec_name,height', '-of', 'csv=p=0', result.mp4File],
        (e, out) => (e ? reject(e) : resolve(out)),
      ),
    );
    expect(probe.trim().split('\n').sort()).toEqual(['aac', 'h264,720']);
    expect((await sharp(result.posterFile).metadata()).width).toBe(960);
  }, 120_000);

  it('rejects a corrupt video, a too long one, and a timed-out transcode', async () => {
    const corrupt = await write(
      'corrupt.mp4',
      Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), Buffer.alloc(4000, 7)]),
    );
    const limits = { maxSeconds: 60, timeoutMs: 60_000, maxOutputBytes: 50_000_000 };
    const e1 = await processVideo(corrupt, dir, limits).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(MediaRejectedError);
    expect((e1 as MediaRejectedError).code).toBe('corrupt_video');
    const source = await mp4(dir, 3, { size: '320x240' });
    const e2 = await processVideo(source, dir, { ...limits, maxSeconds: 2 }).catch((e: unknown) => e);
    expect((e2 as MediaRejectedError).code).toBe('too_long');
    const e3 = await processVideo(source, dir, { ...limits, timeoutMs: 1 }).catch((e: unknown) => e);
    expect((e3 as MediaRejectedError).code).toBe('processing_timeout');
  }, 120_000);

  it('caps portrait video on its short side, with even dimensions', () => {
    expect(renditionSize(1080, 1920)).toEqual({ width: 720, height: 1280 });
    expect(renditionSize(640, 360)).toEqual({ width: 640, height: 360 });
    expect(renditionSize(1001, 3001)).toEqual({ width: 720, height: 2158 });
  });
});
