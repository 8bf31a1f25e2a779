import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createBlobStore, createFsBlobStore, loadConfig, MissingAdapterError } from '../../src/index.js';
import { describeBlobStoreContract } from '../../src/testing/blob-store-contract.js';

describeBlobStoreContract('filesystem', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'nova-blobs-'));
  return { store: createFsBlobStore(root), close: () => fs.rm(root, { recursive: true, force: true }) };
});

describe('blob store selection', () => {
  it('keeps files under NOVA_DATA_DIR/media by default, leaving no staging files behind', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nova-data-'));
    try {
      const store = createBlobStore({
        config: loadConfig({ NOVA_DATA_DIR: dataDir }),
        logger: undefined as never,
      });
      expect(store.kind).toBe('filesystem');
      await store.put('media/abc/original', Readable.from([Buffer.from('bytes')]), {
        contentType: 'image/png',
      });
      expect(await fs.readFile(path.join(dataDir, 'media', 'media', 'abc', 'original'), 'utf8')).toBe(
        'bytes',
      );
      expect(await fs.readdir(path.join(dataDir, 'media', '.tmp'))).toEqual([]);
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses S3 settings in a binary built without the S3 adapter', () => {
    const config = loadConfig({ S3_BUCKET: 'nova-media', S3_ENDPOINT: 'http://127.0.0.1:9000' });
    expect(config.s3).toMatchObject({
      bucket: 'nova-media',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
    });
    expect(() => createBlobStore({ config, logger: undefined as never })).toThrow(MissingAdapterError);
  });

  it('names the missing S3 keys', () => {
    expect(() => loadConfig({ S3_ENDPOINT: 'http://127.0.0.1:9000' })).toThrow(/S3_BUCKET: required/);
    expect(() => loadConfig({ S3_BUCKET: 'nova-media', S3_ACCESS_KEY_ID: 'id' })).toThrow(
      /S3_SECRET_ACCESS_KEY/,
    );
    expect(() => loadConfig({ S3_BUCKET: 'No_Such' })).toThrow(/S3_BUCKET/);
  });
});
