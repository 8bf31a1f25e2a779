import { assertEventPayload } from '@nova/contracts';
import {
  createLogger,
  createMemoryStore,
  createOutboxWriter,
  type Database,
  runMigrations,
} from '@nova/kernel';
import { type DatabaseKind, NO_EVENT_LOG, openTestDatabases, outboxEvents } from '@nova/kernel/testing';
import type { ContentHandlers } from '../../src/api/content-handlers.js';
import { createContentCache } from '../../src/cache/content-cache.js';
import type { ContentContext } from '../../src/context.js';
import { CONTENT_MIGRATIONS_DIR, createContentHandlers } from '../../src/index.js';
import { DEFAULT_MEDIA_SETTINGS } from '../../src/media/media-config.js';
import { noMediaAttachments } from '../../src/media-attachments.js';
import type { ContentTables } from '../../src/store/tables.js';
import { createSocialDouble, type SocialDouble } from './social-double.js';

export interface ContentFixture {
  database: Database<ContentTables>;
  ctx: ContentContext;
  content: ContentHandlers;
  social: SocialDouble;
  /** Events in the outbox of these types, oldest first. */
  events(
    ...types: string[]
  ): Promise<{ type: string; aggregateid: string; payload: Record<string, unknown> }[]>;
  close(): Promise<void>;
}

export async function openContentFixture(kind: DatabaseKind): Promise<ContentFixture> {
  const dbs = await openTestDatabases(kind);
  const logger = createLogger('silent');
  const database = await dbs.provider.open<ContentTables>('content');
  await runMigrations(database, CONTENT_MIGRATIONS_DIR, logger);
  const social = createSocialDouble();
  const ctx: ContentContext = {
    database,
    outbox: createOutboxWriter(assertEventPayload),
    eventLog: NO_EVENT_LOG,
    logger,
    settings: { media: DEFAULT_MEDIA_SETTINGS },
    social,
    media: noMediaAttachments,
    cache: createContentCache(createMemoryStore(), logger),
  };
  return {
    database,
    ctx,
    content: createContentHandlers(ctx),
    social,
    events: (...types) => outboxEvents(database, ...types),
    close: () => dbs.close(),
  };
}
