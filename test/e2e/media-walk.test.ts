import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createS3Client, ensureBucket, type S3Settings } from '@nova/s3';
import pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RunningNova, type SignedUp, signUp, startNova } from './harness.js';

const run = promisify(execFile);
const ADMIN_URL = process.env.NOVA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const s3Endpoint = inject('s3Endpoint') || process.env.NOVA_TEST_S3_ENDPOINT || '';

/**
 * The media walk of a client against the distributed stores: `npm start` on
 * PostgreSQL with media in an S3-compatible bucket (S3Proxy, started by the
 * test setup). A photo with GPS tags becomes variants served from the bucket
 * by presigned URL with no EXIF left; a video becomes a poster and an MP4;
 * a file that is not media is refused.
 */
describe.skipIf(s3Endpoint === '')('media over HTTP (PostgreSQL + S3)', () => {
  const dbName = `nova_e2e_media_${process.pid}_${Date.now()}`;
  const settings: S3Settings = {
    bucket: `nova-e2e-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
    region: 'us-east-1',
    endpoint: s3Endpoint,
    credentials: { accessKeyId: 'nova', secretAccessKey: 'nova-test-secret' },
  };
  let admin: pg.Client;
  let nova: RunningNova;
  let alice: SignedUp;

  const api = (p: string) => `${nova.url}/api/v1${p}`;
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

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await ensureBucket(settings);
    nova = await startNova({
      env: {
        DATABASE_URL: ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`),
        S3_BUCKET: settings.bucket,
        S3_ENDPOINT: s3Endpoint,
        S3_ACCESS_KEY_ID: 'nova',
        S3_SECRET_ACCESS_KEY: 'nova-test-secret',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    });
    alice = await signUp((p) => `${nova.url}${p}`, `media${Date.now().toString(36)}`);
  }, 180_000);

  afterAll(async () => {
    await nova?.stop();
    nova?.cleanup();
    await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin?.end();
    const client = createS3Client(settings);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: settings.bucket }));
    for (const o of listed.Contents ?? [])
      await client.send(new DeleteObjectCommand({ Bucket: settings.bucket, Key: o.Key }));
    await client.send(new DeleteBucketCommand({ Bucket: settings.bucket }));
    client.destroy();
  }, 60_000);

  it('reports the S3 blob store in readiness', async () => {
    const ready = (await (await fetch(`${nova.url}/health/ready`)).json()) as {
      checks: Record<string, unknown>;
    };
    expect(JSON.stringify(ready)).toContain('blobs-s3');
  });

  it('posts a photo with GPS tags: variants from the bucket by presigned URL, EXIF gone', async () => {
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
      expect(url.startsWith(`${s3Endpoint}/${settings.bucket}/media/${id}/`)).toBe(true);
      expect(url).toContain('X-Amz-Signature=');
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
    const post = (await posted.json()) as { media: Array<{ id: string; status: string; variants: object }> };
    expect(post.media).toEqual([expect.objectContaining({ id, status: 'ready' })]);
    expect(Object.keys(post.media[0]?.variants ?? {}).sort()).toEqual(['large', 'small', 'thumbnail']);
  }, 120_000);

  it('turns a video into a poster and an MP4, and refuses a text file named .png', async () => {
    const file = path.join(tmpdir(), `nova-e2e-${process.pid}.mp4`);
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
    const mp4 = await fetch(media.variants.mp4 as string, { headers: { range: 'bytes=0-99' } });
    expect(mp4.status).toBe(206);
    expect((await mp4.arrayBuffer()).byteLength).toBe(100);
    expect((await fetch(media.variants.poster as string)).status).toBe(200);

    const text = await upload(alice.token, Buffer.from('hello, I am text'), 'photo.png');
    expect(text.status).toBe(415);
  }, 150_000);
});
