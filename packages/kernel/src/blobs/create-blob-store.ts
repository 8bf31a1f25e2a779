import path from 'node:path';
import type { Config } from '../config/config.js';
import { MissingAdapterError } from '../events/create-event-log.js';
import type { Logger } from '../logging/logger.js';
import type { BlobStore } from './blob-store.js';
import { createFsBlobStore } from './fs-blob-store.js';

export interface BlobStoreOptions {
  config: Config;
  logger: Logger;
}

/** A blob-store engine adapter (packages/adapters/<engine>, e.g. @nova/s3). */
export type BlobStoreEngine = (options: BlobStoreOptions) => BlobStore;

/**
 * The process's blob store, chosen by configuration: the injected S3 adapter
 * when S3_BUCKET is set, else files under NOVA_DATA_DIR/media.
 */
export function createBlobStore(options: BlobStoreOptions & { s3?: BlobStoreEngine }): BlobStore {
  const { s3, ...rest } = options;
  if (rest.config.s3) {
    if (!s3) throw new MissingAdapterError('S3_BUCKET', 'S3 (@nova/s3)');
    return s3(rest);
  }
  return createFsBlobStore(path.join(rest.config.dataDir, 'media'));
}
