import { Readable } from 'node:stream';
import { DeleteBucketCommand } from '@aws-sdk/client-s3';
import { createBlobStore, createLogger, loadConfig } from '@nova/kernel';
import { describeBlobStoreContract } from '@nova/kernel/testing/blob-store-contract';
import { describe, expect, it } from 'vitest';
import { createS3BlobStore, createS3Client, ensureBucket } from '../src/index.js';
import { s3Disabled, testBucketSettings } from './s3-env.js';

/** The blob-store contract on a real S3-compatible server (S3Proxy, started by the test setup). */
describe.skipIf(s3Disabled())('S3 blob store', () => {
  describeBlobStoreContract('s3 (S3Proxy)', async () => {
    const settings = testBucketSettings();
    await ensureBucket(settings);
    const config = loadConfig({
      S3_BUCKET: settings.bucket,
      S3_ENDPOINT: settings.endpoint,
      S3_ACCESS_KEY_ID: settings.credentials?.accessKeyId,
      S3_SECRET_ACCESS_KEY: settings.credentials?.secretAccessKey,
    });
    // Selected through the kernel's factory, as the app does.
    const store = createBlobStore({ config, logger: createLogger('silent'), s3: createS3BlobStore });
    expect(store.kind).toBe('s3');
    return {
      store,
      async close() {
        await store.close?.();
        const client = createS3Client(settings);
        await client.send(new DeleteBucketCommand({ Bucket: settings.bucket }));
        client.destroy();
      },
    };
  });

  it('signs presigned URLs for S3_PUBLIC_ENDPOINT, and the server answers them there', async () => {
    const settings = testBucketSettings();
    await ensureBucket(settings);
    // The same server under another name, as a cluster-internal S3 published at a public address.
    const publicEndpoint = (settings.endpoint ?? '').replace('127.0.0.1', 'localhost');
    expect(publicEndpoint).not.toBe(settings.endpoint);
    const config = loadConfig({
      S3_BUCKET: settings.bucket,
      S3_ENDPOINT: settings.endpoint,
      S3_PUBLIC_ENDPOINT: publicEndpoint,
      S3_ACCESS_KEY_ID: settings.credentials?.accessKeyId,
      S3_SECRET_ACCESS_KEY: settings.credentials?.secretAccessKey,
    });
    const store = createBlobStore({ config, logger: createLogger('silent'), s3: createS3BlobStore });
    try {
      await store.put('public/one.txt', Readable.from([Buffer.from('seen from outside')]), {
        contentType: 'text/plain',
      });
      const url = (await store.presignedUrl?.('public/one.txt', 60)) ?? '';
      expect(url.startsWith(`${publicEndpoint}/${settings.bucket}/public/one.txt?`)).toBe(true);
      const answer = await fetch(url);
      expect(answer.status).toBe(200);
      expect(await answer.text()).toBe('seen from outside');
    } finally {
      await store.deletePrefix('public/');
      await store.close?.();
      const client = createS3Client(settings);
      await client.send(new DeleteBucketCommand({ Bucket: settings.bucket }));
      client.destroy();
    }
  });

  it('fails its health check when the bucket does not exist', async () => {
    const settings = testBucketSettings();
    const store = createS3BlobStore({
      config: { ...loadConfig({}), s3: settings },
      logger: createLogger('silent'),
    });
    await expect(store.check?.()).rejects.toThrow();
    await store.close?.();
  });
});
