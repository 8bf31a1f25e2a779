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
