import type { Database, EventLog, Kernel, Logger, OutboxWriter } from '@nova/kernel';
import { createSocialCache, type SocialCache } from './cache/social-cache.js';
import type { SocialTables } from './store/tables.js';

/** Exactly what the social service needs from the process, nothing more. */
export interface SocialContext {
  database: Database<SocialTables>;
  outbox: OutboxWriter;
  eventLog: EventLog;
  logger: Logger;
  /** Hot profile and relationship reads (the cache role). */
  cache: SocialCache;
}

export async function createSocialContext(
  kernel: Kernel,
  overrides: Partial<SocialContext> = {},
): Promise<SocialContext> {
  const logger = overrides.logger ?? kernel.logger.child({ service: 'social' });
  return {
    database: overrides.database ?? (await kernel.databases.open<SocialTables>('social')),
    outbox: overrides.outbox ?? kernel.outbox,
    eventLog: overrides.eventLog ?? kernel.eventLog,
    logger,
    cache: overrides.cache ?? createSocialCache(kernel.stores.cache, logger, { metrics: kernel.metrics }),
  };
}
