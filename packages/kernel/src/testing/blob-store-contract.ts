import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobNotFoundError, BlobRangeError, type BlobStore } from '../blobs/blob-store.js';

export interface BlobStoreHarness {
  store: BlobStore;
  close(): Promise<void>;
}

/** A stream of `total` bytes from a seeded generator, made in 64 KiB chunks (never whole in memory). */
function generated(total: number, seed: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const n = Math.min(65_536, total - sent);
      const chunk = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) chunk[i] = ((sent + i + seed) * 2_654_435_761) >>> 24;
      sent += n;
      this.push(chunk);
    },
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * What every blob store guarantees (kernel BlobStore): streamed puts that
 * are all-or-nothing, ranges, metadata, deletes, key hygiene, and presigned
 * URLs where the engine has them. Each suite writes under its own prefix.
 */
export function describeBlobStoreContract(name: string, open: () => Promise<BlobStoreHarness>): void {
  describe(`blob store contract: ${name}`, () => {
    let harness: BlobStoreHarness;
    let store: BlobStore;
    const base = `contract-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

    beforeAll(async () => {
      harness = await open();
      store = harness.store;
    }, 60_000);
    afterAll(async () => {
      await store?.deletePrefix(`${base}/`);
      await harness?.close();
    });

    it('stores a stream and serves it back with its metadata', async () => {
      const bytes = randomBytes(100_000);
      const put = await store.put(
        `${base}/a/one.bin`,
        Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]),
        {
          contentType: 'application/octet-stream',
        },
      );
      expect(put.size).toBe(100_000);
      expect(put.etag).toMatch(/^".+"$/);
      const head = await store.head(`${base}/a/one.bin`);
      expect(head).toMatchObject({ size: 100_000, contentType: 'application/octet-stream', etag: put.etag });
      const got = await store.get(`${base}/a/one.bin`);
      expect(got.info.etag).toBe(put.etag);
      expect(got.range).toBeUndefined();
      expect(sha(await buffer(got.body))).toBe(sha(bytes));
    });

    it('streams an object larger than any buffer it uses (24 MiB)', async () => {
      const total = 24 * 1024 * 1024;
      const expected = createHash('sha256');
      for await (const chunk of generated(total, 7)) expected.update(chunk as Buffer);
      const put = await store.put(`${base}/big.bin`, generated(total, 7), { contentType: 'video/mp4' });
      expect(put.size).toBe(total);
      const got = await store.get(`${base}/big.bin`);
      const actual = createHash('sha256');
      let size = 0;
      for await (const chunk of got.body) {
        actual.update(chunk as Buffer);
        size += (chunk as Buffer).length;
      }
      expect(size).toBe(total);
      expect(actual.digest('hex')).toBe(expected.digest('hex'));
    }, 120_000);

    it('serves byte ranges, clamped to the object, and refuses one past its end', async () => {
      const bytes = Buffer.from('0123456789abcdefghij');
      await store.put(`${base}/range.txt`, Readable.from([bytes]), { contentType: 'text/plain' });
      const mid = await store.get(`${base}/range.txt`, { start: 2, end: 5 });
      expect(mid.range).toEqual({ start: 2, end: 5 });
      expect((await buffer(mid.body)).toString()).toBe('2345');
      expect(mid.info.size).toBe(20);
      const open = await store.get(`${base}/range.txt`, { start: 15 });
      expect(open.range).toEqual({ start: 15, end: 19 });
      expect((await buffer(open.body)).toString()).toBe('fghij');
      const clamped = await store.get(`${base}/range.txt`, { start: 18, end: 1000 });
      expect(clamped.range).toEqual({ start: 18, end: 19 });
      expect((await buffer(clamped.body)).toString()).toBe('ij');
      await expect(store.get(`${base}/range.txt`, { start: 20 })).rejects.toBeInstanceOf(BlobRangeError);
    });

    it('replaces an object whole, with a new etag', async () => {
      const first = await store.put(`${base}/replace.txt`, Readable.from([Buffer.from('first version')]), {
        contentType: 'text/plain',
      });
      const second = await store.put(`${base}/replace.txt`, Readable.from([Buffer.from('second')]), {
        contentType: 'text/markdown',
      });
      expect(second.etag).not.toBe(first.etag);
      const got = await store.get(`${base}/replace.txt`);
      expect(got.info).toMatchObject({ size: 6, contentType: 'text/markdown' });
      expect((await buffer(got.body)).toString()).toBe('second');
    });

    it('stores nothing when the stream fails, and keeps the object it would have replaced', async () => {
      await store.put(`${base}/keep.txt`, Readable.from([Buffer.from('kept')]), {
        contentType: 'text/plain',
      });
      const failing = (key: string) => {
        let n = 0;
        const body = new Readable({
          read() {
            n += 1;
            if (n <= 3) this.push(randomBytes(64 * 1024));
            else this.destroy(new Error('upload cut off'));
          },
        });
        return store.put(key, body, { contentType: 'text/plain' });
      };
      await expect(failing(`${base}/never.txt`)).rejects.toThrow('upload cut off');
      expect(await store.head(`${base}/never.txt`)).toBeUndefined();
      await expect(failing(`${base}/keep.txt`)).rejects.toThrow('upload cut off');
      expect((await buffer((await store.get(`${base}/keep.txt`)).body)).toString()).toBe('kept');
    });

    it('answers absent objects plainly', async () => {
      expect(await store.head(`${base}/missing`)).toBeUndefined();
      await expect(store.get(`${base}/missing`)).rejects.toBeInstanceOf(BlobNotFoundError);
      await expect(store.delete(`${base}/missing`)).resolves.toBeUndefined();
    });

    it('deletes one object, and every object under a prefix', async () => {
      for (const key of ['p/x/1', 'p/x/2', 'p/x/deep/3', 'p/y/1']) {
        await store.put(`${base}/${key}`, Readable.from([Buffer.from(key)]), { contentType: 'text/plain' });
      }
      await store.delete(`${base}/p/y/1`);
      expect(await store.head(`${base}/p/y/1`)).toBeUndefined();
      expect(await store.deletePrefix(`${base}/p/x/`)).toBe(3);
      for (const key of ['p/x/1', 'p/x/2', 'p/x/deep/3'])
        expect(await store.head(`${base}/${key}`)).toBeUndefined();
      expect(await store.deletePrefix(`${base}/p/nothing/`)).toBe(0);
    });

    it('refuses keys that could escape or differ between engines', async () => {
      for (const key of ['../x', '/abs', 'a//b', 'a/../b', 'a/./b', '.hidden', 'a/.meta', 'sp ace', '']) {
        await expect(
          store.put(key, Readable.from([Buffer.from('x')]), { contentType: 'text/plain' }),
          key,
        ).rejects.toThrow(/invalid blob key/);
        await expect(store.get(key), key).rejects.toThrow(/invalid blob key/);
      }
      await expect(store.deletePrefix(base)).rejects.toThrow(/must end with/);
    });

    it('gives a presigned URL a plain client can fetch, where the engine has them', async (context) => {
      if (!store.presignedUrl) return context.skip();
      await store.put(`${base}/signed.txt`, Readable.from([Buffer.from('signed bytes')]), {
        contentType: 'text/plain',
      });
      const url = await store.presignedUrl(`${base}/signed.txt`, 60);
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('signed bytes');
      const tampered = await fetch(url.replace('signed.txt', 'keep.txt'));
      expect(tampered.status).toBe(403);
    });

    it('answers its health check', async () => {
      await expect(store.check?.() ?? Promise.resolve()).resolves.toBeUndefined();
    });
  });
}
