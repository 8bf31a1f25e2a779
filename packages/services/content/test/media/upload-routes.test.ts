import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jpegWithGps, mp4, pngBomb } from './fixtures.js';
import { type MediaServer, startMediaServer } from './media-server.js';

const MAX = 3 * 1024 * 1024;

describe('media upload over HTTP', () => {
  let server: MediaServer;
  let alice: string;
  let scratch: string;
  beforeAll(async () => {
    server = await startMediaServer({ env: { MEDIA_MAX_BYTES: String(MAX), MEDIA_MAX_PIXELS: '20000000' } });
    alice = server.user();
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'nova-media-routes-'));
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await fs.rm(scratch, { recursive: true, force: true });
  });

  it('turns a JPEG with GPS tags into served WebP variants with no EXIF, and never serves the original', async () => {
    const response = await server.upload(
      alice,
      await jpegWithGps(1600, 1200, 6),
      'holiday.jpg',
      'image/jpeg',
    );
    expect(response.status).toBe(202);
    const created = (await response.json()) as { id: string; status: string };
    expect(created.status).toBe('processing');
    const media = await server.settle(alice, created.id);
    expect(media).toMatchObject({
      id: created.id,
      kind: 'image',
      mimeType: 'image/jpeg',
      status: 'ready',
      width: 1200,
      height: 1600,
    });
    expect(typeof media.blurhash).toBe('string');
    const variants = media.variants as Record<string, string>;
    expect(Object.keys(variants).sort()).toEqual(['large', 'small', 'thumbnail']);
    for (const url of Object.values(variants)) {
      const got = await fetch(url);
      expect(got.status).toBe(200);
      expect(got.headers.get('content-type')).toBe('image/webp');
      expect(got.headers.get('cache-control')).toContain('immutable');
      const etag = got.headers.get('etag');
      expect(etag).toMatch(/^".+"$/);
      const bytes = Buffer.from(await got.arrayBuffer());
      const meta = await sharp(bytes).metadata();
      expect(meta.exif).toBeUndefined();
      expect(bytes.includes(Buffer.from('NovaCam'))).toBe(false);
      const again = await fetch(url, { headers: { 'if-none-match': etag as string } });
      expect(again.status).toBe(304);
    }
    // Variants are public by URL (img tags send no token); the original is not one of them, and is gone.
    expect((await fetch(`${server.url}/api/v1/media/${created.id}/variants/original`)).status).toBe(404);
    expect(await server.blobs.head(`media/${created.id}/original`)).toBeUndefined();
  }, 90_000);

  it('refuses a text file named .png with 415, stores nothing, and serves the next upload', async () => {
    const response = await server.upload(
      alice,
      Buffer.from('not an image at all, whatever the name says'),
      'photo.png',
      'image/png',
    );
    expect(response.status).toBe(415);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(((await response.json()) as { code: string }).code).toBe('unsupported_media_type');
    const next = await server.upload(alice, await jpegWithGps(64, 64, 1), 'ok.jpg');
    expect(next.status).toBe(202);
  });

  it('answers 413 to an oversized upload, readable by fetch, before reading it all (declared length)', async () => {
    const response = await server.upload(alice, Buffer.alloc(MAX * 4, 0xff), 'huge.jpg');
    expect(response.status).toBe(413);
    expect(((await response.json()) as { code: string }).code).toBe('media_too_large');
  });

  it('answers 413 when a streamed upload without a length passes the limit, and keeps nothing', async () => {
    const head = await jpegWithGps(64, 64, 1);
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const boundary = 'novaboundary42';
    const body = Readable.from(
      (async function* () {
        yield Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
        );
        yield head;
        while (sent < MAX * 2) {
          sent += chunk.length;
          yield chunk;
        }
        yield Buffer.from(`\r\n--${boundary}--\r\n`);
      })(),
    );
    const before = await server.mediaRows();
    const response = await fetch(`${server.url}/api/v1/media`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${alice}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      body: Readable.toWeb(body) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { code: string }).code).toBe('media_too_large');
    expect(await server.mediaRows()).toBe(before);
    // The refused upload's temporary file is removed as the stream unwinds, which may end just after the answer.
    await expect
      .poll(() => fs.readdir(path.join(server.kernel.config.dataDir, 'media', '.tmp')), { timeout: 5_000 })
      .toEqual([]);
  });

  it('refuses a non-multipart body with 415 and a multipart one without a file with 400', async () => {
    const json = await server.json('POST', '/media', alice, { file: 'x' });
    expect(json.status).toBe(415);
    const form = new FormData();
    form.append('note', 'no file here');
    const empty = await fetch(`${server.url}/api/v1/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}` },
      body: form,
    });
    expect(empty.status).toBe(400);
    const anonymous = await fetch(`${server.url}/api/v1/media`, { method: 'POST', body: new FormData() });
    expect(anonymous.status).toBe(401);
  });

  it('ends a truncated image, a decompression bomb and a corrupt video failed with a reason, and keeps working', async () => {
    const whole = await jpegWithGps(800, 600, 1);
    const cases: Array<[string, Buffer, string, RegExp]> = [
      [
        'truncated.jpg',
        whole.subarray(0, Math.floor(whole.length / 2)),
        'corrupt_image',
        /damaged|incomplete/,
      ],
      ['bomb.png', pngBomb(), 'too_many_pixels', /30000×30000/],
      [
        'corrupt.mp4',
        Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), Buffer.alloc(5000, 7)]),
        'corrupt_video',
        /cannot be read/,
      ],
    ];
    for (const [name, bytes, code, reason] of cases) {
      const response = await server.upload(alice, bytes, name);
      expect(response.status, name).toBe(202);
      const { id } = (await response.json()) as { id: string };
      const media = await server.settle(alice, id);
      expect(media.status, name).toBe('failed');
      expect(media.failure, name).toMatchObject({ code });
      expect((media.failure as { reason: string }).reason, name).toMatch(reason);
      expect(media.variants).toEqual({});
      // Another user does not even learn that it exists.
      expect((await server.json('GET', `/media/${id}`, server.user())).status).toBe(404);
    }
    const next = await server.upload(alice, await jpegWithGps(200, 100, 1), 'after.jpg');
    const { id } = (await next.json()) as { id: string };
    expect((await server.settle(alice, id)).status).toBe('ready');
  }, 120_000);

  it('counts a profile avatar as attached: the collector of unattached uploads keeps it', async () => {
    const bob = server.user();
    const upload = async () =>
      ((await (await server.upload(bob, await jpegWithGps(64, 64, 1), 'me.jpg')).json()) as { id: string })
        .id;
    const avatar = await upload();
    const loose = await upload();
    // Someone else naming bob's upload as their avatar changes nothing.
    await server.profileUpdated(alice, loose);
    await server.profileUpdated(bob, avatar);
    const attached = (id: string) => server.attached(id);
    const deadline = Date.now() + 20_000;
    while (!(await attached(avatar)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await attached(avatar)).toBe(true);
    expect(await attached(loose)).toBe(false);
  });

  it('makes a poster and an MP4 of a video, served with byte ranges', async () => {
    const file = await mp4(scratch, 2, { size: '640x360' });
    const response = await server.upload(alice, await fs.readFile(file), 'clip.mov');
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const media = await server.settle(alice, id, 120_000);
    expect(media).toMatchObject({
      kind: 'video',
      mimeType: 'video/mp4',
      status: 'ready',
      width: 640,
      height: 360,
    });
    expect(media.durationMs).toBeGreaterThan(1500);
    const variants = media.variants as Record<string, string>;
    expect(Object.keys(variants).sort()).toEqual(['mp4', 'poster', 'small', 'thumbnail']);
    const whole = await fetch(variants.mp4 as string);
    expect(whole.headers.get('content-type')).toBe('video/mp4');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    const size = Number(whole.headers.get('content-length'));
    await whole.arrayBuffer();
    const part = await fetch(variants.mp4 as string, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${size}`);
    expect((await part.arrayBuffer()).byteLength).toBe(100);
    const past = await fetch(variants.mp4 as string, { headers: { range: `bytes=${size}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${size}`);
    const poster = await fetch(variants.poster as string);
    expect((await sharp(Buffer.from(await poster.arrayBuffer())).metadata()).format).toBe('webp');
  }, 150_000);
});
