import type { BlobStore, Database, EventLog, Kernel, Logger, OutboxWriter } from '@nova/kernel';
import type { ContentContext } from '../context.js';
import type { MediaSettings } from './media-config.js';
import type { MediaUrls } from './media-urls.js';
import type { MediaTables } from './store/media-tables.js';

/** Exactly what the media pipeline uses: content's database and outbox, the blob store, its settings. */
export interface MediaContext {
  database: Database<MediaTables>;
  blobs: BlobStore;
  outbox: OutboxWriter;
  eventLog: EventLog;
  logger: Logger;
  settings: MediaSettings;
  urls: MediaUrls;
  /** Scratch space for the processor (originals and ffmpeg outputs while an item is worked on). */
  workDir: string;
}

export function createMediaContext(
  kernel: Pick<Kernel, 'blobs' | 'config'>,
  content: ContentContext,
  urls: MediaUrls,
  overrides: Partial<MediaContext> = {},
): MediaContext {
  return {
    // The media table lives in content's schema; the posts side's handle just does not name it.
    database: overrides.database ?? (content.database as unknown as Database<MediaTables>),
    blobs: overrides.blobs ?? kernel.blobs,
    outbox: overrides.outbox ?? content.outbox,
    eventLog: overrides.eventLog ?? content.eventLog,
    logger: overrides.logger ?? content.logger.child({ component: 'media' }),
    settings: overrides.settings ?? content.settings.media,
    urls,
    workDir: overrides.workDir ?? `${kernel.config.dataDir}/media-work`,
  };
}
