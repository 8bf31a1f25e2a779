import { S3Client } from '@aws-sdk/client-s3';

export interface S3Settings {
  bucket: string;
  region: string;
  endpoint?: string;
  /** Where clients reach the same server, when not at `endpoint` (presigned URLs carry it). */
  publicEndpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/**
 * One S3 client per store. An explicit endpoint means an S3-compatible server
 * (S3Proxy, MinIO, Ceph): path-style addressing, since such servers rarely
 * have a DNS name per bucket. Checksums only where the API requires them:
 * the SDK's default CRC32 headers are not understood by every compatible
 * server (S3Proxy 2.6 answers 501).
 */
export function createS3Client(settings: S3Settings): S3Client {
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 3,
  });
}
