import type { SocialApi } from '@nova/contracts';
import type { Database, EventLog, Kernel, Logger, OutboxWriter } from '@nova/kernel';
import { type ContentCache, createContentCache } from './cache/content-cache.js';
import { type ContentSettings, contentSettings } from './config.js';
import { createMediaAttachments } from './media/attachments.js';
import { createMediaUrls } from './media/media-urls.js';
import type { MediaAttachments } from './media-attachments.js';
import type { ContentTables } from './store/tables.js';

/** Exactly what the content service needs from the process, nothing more. */
export interface ContentContext {
  database: Database<ContentTables>;
  outbox: OutboxWriter;
  eventLog: EventLog;
  logger: Logger;
  settings: ContentSettings;
  /** Profiles, relationships (visibility) and usernames (mentions): social's sync API. */
  social: SocialApi;
  /** Ownership and display of media items: the media pipeline's side. */
  media: MediaAttachments;
  /** Hot post and like reads (the cache role). */
  cache: ContentCache;
}

export async function createContentContext(
  kernel: Kernel,
  deps: { social: SocialApi },
  overrides: Partial<ContentContext> = {},
): Promise<ContentContext> {
  const logger = overrides.logger ?? kernel.logger.child({ service: 'content' });
  return {
    database: overrides.database ?? (await kernel.databases.open<ContentTables>('content')),
    outbox: overrides.outbox ?? kernel.outbox,
    eventLog: overrides.eventLog ?? kernel.eventLog,
    logger,
    cache: overrides.cache ?? createContentCache(kernel.stores.cache, logger, { metrics: kernel.metrics }),
    settings: overrides.settings ?? contentSettings(kernel.config),
    social: overrides.social ?? deps.social,
    media:
      overrides.media ?? createMediaAttachments(createMediaUrls(kernel.blobs, kernel.config.http.publicUrl)),
  };
}
