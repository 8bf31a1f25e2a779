import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  assertBlobKey,
  assertBlobPrefix,
  type BlobInfo,
  BlobNotFoundError,
  type BlobObject,
  type BlobPutOptions,
  type BlobRange,
  type BlobStore,
  clampRange,
} from './blob-store.js';

interface Sidecar {
  contentType: string;
  etag: string;
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Blobs as files under one directory (NOVA_DATA_DIR/media by default). Each
 * object is its file plus a sidecar `.<name>.meta` (content type and MD5
 * ETag, like S3's for a single-part upload); a dot never starts a key
 * segment, so sidecars and the `.tmp` staging directory never collide with
 * keys. A put is written to `.tmp` and renamed into place: readers never see
 * half a file.
 */
export function createFsBlobStore(root: string): BlobStore {
  const staging = path.join(root, '.tmp');
  const fileOf = (key: string) => path.join(root, ...key.split('/'));
  const sidecarOf = (file: string) => path.join(path.dirname(file), `.${path.basename(file)}.meta`);

  async function readSidecar(file: string): Promise<Sidecar | undefined> {
    try {
      return JSON.parse(await fs.readFile(sidecarOf(file), 'utf8')) as Sidecar;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async function head(key: string): Promise<BlobInfo | undefined> {
    assertBlobKey(key);
    const file = fileOf(key);
    const [stat, meta] = await Promise.all([fs.stat(file).catch(() => undefined), readSidecar(file)]);
    if (!stat?.isFile() || !meta) return undefined;
    return { key, size: stat.size, contentType: meta.contentType, etag: meta.etag, lastModified: stat.mtime };
  }

  return {
    kind: 'filesystem',

    async put(key: string, body: Readable, options: BlobPutOptions): Promise<BlobInfo> {
      assertBlobKey(key);
      const file = fileOf(key);
      await fs.mkdir(staging, { recursive: true });
      const tmp = path.join(staging, randomUUID());
      const md5 = createHash('md5');
      let size = 0;
      const tap = new PassThrough({
        transform(chunk: Buffer, _enc, done) {
          md5.update(chunk);
          size += chunk.length;
          done(null, chunk);
        },
      });
      try {
        await pipeline(body, tap, createWriteStream(tmp, { flags: 'wx' }));
        const meta: Sidecar = { contentType: options.contentType, etag: `"${md5.digest('hex')}"` };
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(`${tmp}.meta`, JSON.stringify(meta));
        await fs.rename(`${tmp}.meta`, sidecarOf(file));
        await fs.rename(tmp, file);
        const stat = await fs.stat(file);
        return { key, size, contentType: meta.contentType, etag: meta.etag, lastModified: stat.mtime };
      } catch (error) {
        await Promise.all([fs.rm(tmp, { force: true }), fs.rm(`${tmp}.meta`, { force: true })]);
        throw error;
      }
    },

    async get(key: string, range?: BlobRange): Promise<BlobObject> {
      assertBlobKey(key);
      const file = fileOf(key);
      const handle = await fs.open(file, 'r').catch((error: unknown) => {
        throw isMissing(error) ? new BlobNotFoundError(key) : error;
      });
      try {
        const [stat, meta] = await Promise.all([handle.stat(), readSidecar(file)]);
        if (!stat.isFile() || !meta) throw new BlobNotFoundError(key);
        const info = {
          key,
          size: stat.size,
          contentType: meta.contentType,
          etag: meta.etag,
          lastModified: stat.mtime,
        };
        const served = range ? clampRange(key, stat.size, range) : undefined;
        // An empty file has no byte to serve as a range end; a stream of nothing is its whole body.
        const body = createReadStream('', {
          fd: handle,
          autoClose: true,
          ...(served ? served : {}),
        });
        return { info, body, ...(served ? { range: served } : {}) };
      } catch (error) {
        await handle.close();
        throw error;
      }
    },

    head,

    async delete(key: string): Promise<void> {
      assertBlobKey(key);
      const file = fileOf(key);
      await fs.rm(file, { force: true });
      await fs.rm(sidecarOf(file), { force: true });
    },

    async deletePrefix(prefix: string): Promise<number> {
      assertBlobPrefix(prefix);
      const dir = fileOf(prefix.slice(0, -1));
      let count = 0;
      try {
        const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
        count = entries.filter((e) => e.isFile() && !e.name.startsWith('.')).length;
      } catch (error) {
        if (isMissing(error)) return 0;
        throw error;
      }
      await fs.rm(dir, { recursive: true, force: true });
      return count;
    },

    async check(): Promise<void> {
      await fs.mkdir(root, { recursive: true });
      await fs.access(root, fs.constants.W_OK);
    },
  };
}
