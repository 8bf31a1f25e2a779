import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NovaDeployment, readyChecksOf, type SignedUp, signUp } from '../harness.js';
import { deployShape, type E2eShape } from './shape.js';

const run = promisify(execFile);

/** Where the shape keeps media: Nova's own files (served by Nova), or a bucket (presigned URLs). */
export type MediaStore = { kind: 'files' } | { kind: 's3'; endpoint: () => string; bucket: () => string };

/**
 * The media walk of a client against `npm start` on the shape: a photo with
 * GPS tags becomes WebP variants with no EXIF left, attached to a post; a
 * video becomes a poster and an MP4 served with byte ranges; a file that is
 * not media is refused.
 */
export function defineMediaWalk(shape: E2eShape, store: MediaStore): void {
  describe(`media over HTTP (${shape.name})`, () => {
    let nova: NovaDeployment;
    let alice: SignedUp;

    const api = (p: string) => nova.urlFor(`/api/v1${p}`);
    const upload = (token: string, bytes: Buffer, name: string) => {
      const form = new FormData();
      form.append('file', new Blob([bytes]), name);
      return fetch(api('/media'), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: form,
      });
    };
    const settle = async (token: string, id: string, timeoutMs = 90_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const answer = await fetch(api(`/media/${id}`), { headers: { authorization: `Bearer ${token}` } });
        const body = (await answer.json()) as Record<string, unknown> & { variants: Record<string, string> };
        if (body.status !== 'processing' || Date.now() > deadline) return body;
        await new Promise((r) => setTimeout(r, 150));
      }
    };
    /** A variant URL points where the shape keeps media: Nova's variant route, or a presigned bucket URL. */
    const expectStoredWhereTheShapeSays = (url: string, id: string) => {
      if (store.kind === 's3') {
        expect(url.startsWith(`${store.endpoint()}/${store.bucket()}/media/${id}/`)).toBe(true);
        expect(url).toContain('X-Amz-Signature=');
      } else expect(url.startsWith(nova.urlFor(`/api/v1/media/${id}/variants/`))).toBe(true);
    };

    beforeAll(async () => {
      await shape.prepare?.();
      nova = await deployShape(shape, shape.env());
      alice = await signUp((p) => nova.urlFor(p), `media${Date.now().toString(36)}`);
    }, 180_000);

    afterAll(async () => {
      await nova?.stop();
      nova?.cleanup();
      await shape.release?.();
    }, 60_000);

    it('reports the shape’s engines in readiness', async () => {
      const ready = JSON.stringify(await readyChecksOf(nova));
      expect(ready).toContain(store.kind === 's3' ? 'blobs-s3' : 'blobs-files');
      for (const check of shape.readyChecks ?? []) expect(ready).toContain(check);
    });

    it('posts a photo with GPS tags: WebP variants with no EXIF, attached to the post', async () => {
      const photo = await sharp({ create: { width: 1200, height: 900, channels: 3, background: '#c05020' } })
        .jpeg()
        .withExif({
          IFD0: { Make: 'NovaCam' },
          IFD3: {
            GPSLatitudeRef: 'N',
            GPSLatitude: '48/1 51/1 2400/100',
            GPSLongitudeRef: 'E',
            GPSLongitude: '2/1 21/1 300/100',
          },
        })
        .toBuffer();
      const answer = await upload(alice.token, photo, 'beach.jpg');
      expect(answer.status).toBe(202);
      const { id } = (await answer.json()) as { id: string };
      const media = await settle(alice.token, id);
      expect(media).toMatchObject({ status: 'ready', width: 1200, height: 900, kind: 'image' });
      for (const url of Object.values(media.variants)) {
        expectStoredWhereTheShapeSays(url, id);
        const got = await fetch(url);
        expect(got.status).toBe(200);
        const bytes = Buffer.from(await got.arrayBuffer());
        const meta = await sharp(bytes).metadata();
        expect(meta.format).toBe('webp');
        expect(meta.exif).toBeUndefined();
        expect(bytes.includes(Buffer.from('NovaCam'))).toBe(false);
      }
      const posted = await fetch(api('/posts'), {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'at the beach', mediaIds: [id] }),
      });
      expect(posted.status).toBe(201);
      const post = (await posted.json()) as {
        media: Array<{ id: string; status: string; variants: object }>;
      };
      expect(post.media).toEqual([expect.objectContaining({ id, status: 'ready' })]);
      expect(Object.keys(post.media[0]?.variants ?? {}).sort()).toEqual(['large', 'small', 'thumbnail']);
    }, 120_000);

    it('turns a video into a poster and an MP4, and refuses a text file named .png', async () => {
      const file = path.join(tmpdir(), `nova-e2e-${process.pid}-${Date.now()}.mp4`);
      await run('ffmpeg', [
        ...['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=duration=1:size=320x240:rate=25'],
        ...['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:v', 'libx264', '-preset', 'ultrafast'],
        ...['-pix_fmt', 'yuv420p', '-c:a', 'aac', file],
      ]);
      const answer = await upload(alice.token, await readFile(file), 'clip.mp4');
      await rm(file, { force: true });
      const { id } = (await answer.json()) as { id: string };
      const media = await settle(alice.token, id);
      expect(media).toMatchObject({ status: 'ready', kind: 'video', width: 320, height: 240 });
      expectStoredWhereTheShapeSays(media.variants.mp4 as string, id);
      const mp4 = await fetch(media.variants.mp4 as string, { headers: { range: 'bytes=0-99' } });
      expect(mp4.status).toBe(206);
      expect((await mp4.arrayBuffer()).byteLength).toBe(100);
      expect((await fetch(media.variants.poster as string)).status).toBe(200);

      const text = await upload(alice.token, Buffer.from('hello, I am text'), 'photo.png');
      expect(text.status).toBe(415);
    }, 150_000);
  });
}
