import { assertEventPayload } from '@nova/contracts';
import {
  createLogger,
  createMemoryStore,
  createOutboxWriter,
  type Database,
  type EventLog,
  runMigrations,
} from '@nova/kernel';
import { type DatabaseKind, openTestDatabases } from '@nova/kernel/testing';
import { sql } from 'kysely';
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

// Repository suites need no event log: nothing consumes here.
const noEventLog: EventLog = {
  kind: 'embedded',
  consumer: () => {
    throw new Error('no event log in repository tests');
  },
  relay: () => null,
  close: async () => undefined,
};

export async function openContentFixture(kind: DatabaseKind): Promise<ContentFixture> {
  const dbs = await openTestDatabases(kind);
  const logger = createLogger('silent');
  const database = await dbs.provider.open<ContentTables>('content');
  await runMigrations(database, CONTENT_MIGRATIONS_DIR, logger);
  const social = createSocialDouble();
  const ctx: ContentContext = {
    database,
    outbox: createOutboxWriter(assertEventPayload),
    eventLog: noEventLog,
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
    async events(...types) {
      const { rows } = await sql<{ type: string; aggregateid: string; payload: Record<string, unknown> }>`
        SELECT type, aggregateid, payload FROM ${sql.table(`${database.schema}.outbox`)}
         WHERE type = any(${types}::text[]) ORDER BY seq`.execute(database.db);
      return rows;
    },
    close: () => dbs.close(),
  };
}
