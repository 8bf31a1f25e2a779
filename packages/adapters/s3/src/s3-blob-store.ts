import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  assertBlobKey,
  assertBlobPrefix,
  type BlobInfo,
  BlobNotFoundError,
  type BlobObject,
  type BlobPutOptions,
  type BlobRange,
  BlobRangeError,
  type BlobStore,
  type BlobStoreOptions,
} from '@nova/kernel';
import { createS3Client, type S3Settings } from './client.js';

// Multipart part size and parallel parts: a put holds at most PART_SIZE × QUEUE bytes, whatever the object's size.
const PART_SIZE = 5 * 1024 * 1024;
const QUEUE = 2;
const DELETE_PARALLELISM = 8;

const statusOf = (error: unknown) =>
  error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;

/**
 * The kernel's BlobStore on an S3-compatible bucket. Puts stream through
 * multipart uploads (aborted on a failed stream, so nothing half-written is
 * ever visible); reads stream the response body; presigned GET URLs let
 * clients fetch variants without Nova in the path.
 */
export function createS3BlobStoreFrom(
  client: S3Client,
  bucket: string,
  /** Signs presigned URLs: a client of the public address when clients reach the server elsewhere. */
  presignClient: S3Client = client,
): BlobStore {
  const infoOf = (
    key: string,
    r: { ContentLength?: number; ContentType?: string; ETag?: string; LastModified?: Date },
    size = r.ContentLength ?? 0,
  ): BlobInfo => ({
    key,
    size,
    contentType: r.ContentType ?? 'application/octet-stream',
    etag: r.ETag ?? '""',
    lastModified: r.LastModified ?? new Date(0),
  });

  async function head(key: string): Promise<BlobInfo | undefined> {
    assertBlobKey(key);
    try {
      return infoOf(key, await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  return {
    kind: 's3',

    async put(key: string, body: Readable, options: BlobPutOptions): Promise<BlobInfo> {
      assertBlobKey(key);
      // The body's own error (e.g. a size limit) must surface as itself, not as an SDK wrapper.
      let streamError: unknown;
      body.once('error', (error) => {
        streamError = error;
      });
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: key, Body: body, ContentType: options.contentType },
        partSize: PART_SIZE,
        queueSize: QUEUE,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (error) {
        throw streamError ?? error;
      }
      if (streamError) throw streamError;
      const info = await head(key);
      if (!info) throw new Error(`S3 put of ${key} completed but the object is not there`);
      return info;
    },

    async get(key: string, range?: BlobRange): Promise<BlobObject> {
      assertBlobKey(key);
      if (range && (!Number.isInteger(range.start) || range.start < 0)) {
        throw new BlobRangeError(key, (await head(key))?.size ?? 0);
      }
      try {
        const r = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(range ? { Range: `bytes=${range.start}-${range.end ?? ''}` } : {}),
          }),
        );
        const body = r.Body as Readable;
        const served = r.ContentRange ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(r.ContentRange) : null;
        if (range && served) {
          return {
            info: infoOf(key, r, Number(served[3])),
            body,
            range: { start: Number(served[1]), end: Number(served[2]) },
          };
        }
        return { info: infoOf(key, r), body };
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) throw new BlobNotFoundError(key);
        if (status === 416) throw new BlobRangeError(key, (await head(key))?.size ?? 0);
        throw error;
      }
    },

    head,

    async delete(key: string): Promise<void> {
      assertBlobKey(key);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },

    async deletePrefix(prefix: string): Promise<number> {
      assertBlobPrefix(prefix);
      let deleted = 0;
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        const keys = (page.Contents ?? []).map((o) => o.Key).filter((k): k is string => k !== undefined);
        // One DELETE per object: the batch API needs a checksum header not every compatible server reads.
        for (let i = 0; i < keys.length; i += DELETE_PARALLELISM) {
          await Promise.all(
            keys
              .slice(i, i + DELETE_PARALLELISM)
              .map((Key) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key }))),
          );
        }
        deleted += keys.length;
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return deleted;
    },

    presignedUrl(key: string, expiresInSeconds: number): Promise<string> {
      assertBlobKey(key);
      return getSignedUrl(presignClient, new GetObjectCommand({ Bucket: bucket, Key: key }), {
        expiresIn: expiresInSeconds,
      });
    },

    async check(): Promise<void> {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
    },

    async close(): Promise<void> {
      client.destroy();
      if (presignClient !== client) presignClient.destroy();
    },
  };
}

/** The engine the app injects into the kernel's createBlobStore (selected by S3_BUCKET). */
export function createS3BlobStore(options: BlobStoreOptions): BlobStore {
  const settings = options.config.s3;
  if (!settings) throw new Error('createS3BlobStore needs S3_BUCKET');
  const client = createS3Client(settings);
  // Signing needs no connection: the public client only names the host clients will use.
  const presignClient = settings.publicEndpoint
    ? createS3Client({ ...settings, endpoint: settings.publicEndpoint })
    : client;
  return createS3BlobStoreFrom(client, settings.bucket, presignClient);
}

/** Creates the bucket when it does not exist yet (tests, local development). */
export async function ensureBucket(settings: S3Settings): Promise<void> {
  const client = createS3Client(settings);
  try {
    await client.send(new HeadBucketCommand({ Bucket: settings.bucket }));
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    await client.send(new CreateBucketCommand({ Bucket: settings.bucket }));
  } finally {
    client.destroy();
  }
}
