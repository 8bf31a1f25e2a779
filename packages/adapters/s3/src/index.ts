export { createS3Client, type S3Settings } from './client.js';
export { createS3BlobStore, createS3BlobStoreFrom, ensureBucket } from './s3-blob-store.js';
