import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AuthApi, type SocialApiHandlers, socialSyncApi } from '@nova/contracts';
import type { ServiceModule } from '@nova/kernel';
import { registerSocialRoutes } from './api/routes.js';
import type { SocialHandlers } from './api/social-handlers.js';
import { createSocialSyncApi } from './api/sync-api.js';
import { createBlockCommands } from './commands/block-commands.js';
import { createFollowCommands } from './commands/follow-commands.js';
import { createProfileCommands } from './commands/profile-commands.js';
import { createSocialContext, type SocialContext } from './context.js';
import { createDayFollowsQuery } from './queries/day-follows-query.js';
import { createGraphQueries } from './queries/graph-queries.js';
import { seedGraph } from './seed/seed-graph.js';
import { createCacheInvalidationConsumer } from './workers/cache-invalidation-consumer.js';
import { createPostEventsConsumer } from './workers/post-events-consumer.js';
import { createUserEventsConsumer } from './workers/user-events-consumer.js';

export const SOCIAL_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

export function createSocialHandlers(ctx: SocialContext): SocialHandlers {
  return {
    profiles: createProfileCommands(ctx),
    follows: createFollowCommands(ctx),
    blocks: createBlockCommands(ctx),
    queries: createGraphQueries(ctx),
  };
}

/**
 * Profiles and the follow graph. It needs auth's API: its routes act for an
 * authenticated user, and the edge of a process without auth verifies tokens
 * through auth's `verifyToken` (in-process or over gRPC).
 */
export const socialModule: ServiceModule<SocialApiHandlers, { auth: AuthApi }> = {
  name: 'social',
  dependsOn: ['auth'],
  syncApi: socialSyncApi,
  migrationsDir: path.resolve(SOCIAL_MIGRATIONS_DIR),
  async init(kernel) {
    const ctx = await createSocialContext(kernel);
    const social = createSocialHandlers(ctx);
    return {
      api: createSocialSyncApi(social.queries, createDayFollowsQuery(ctx.database.db)),
      routes: { api: (app) => registerSocialRoutes(app, social) },
      workers: [
        createUserEventsConsumer(ctx),
        createPostEventsConsumer(ctx),
        createCacheInvalidationConsumer(ctx),
      ],
    };
  },
  seed: seedGraph,
};

export type { SocialContext } from './context.js';
export { type LoadGraphOptions, type LoadGraphResult, loadSocialGraph } from './seed/load-graph.js';
export type { SocialTables } from './store/tables.js';
