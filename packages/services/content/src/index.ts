import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AuthApi, type ContentApiHandlers, contentSyncApi, type SocialApi } from '@nova/contracts';
import type { ServiceModule } from '@nova/kernel';
import type { ContentHandlers } from './api/content-handlers.js';
import { registerContentRoutes } from './api/routes.js';
import { createInteractionCommands } from './commands/interaction-commands.js';
import { createPostCommands } from './commands/post-commands.js';
import { contentConfig } from './config.js';
import { type ContentContext, createContentContext } from './context.js';
import { createMediaPipeline, type MediaPipeline } from './media/media-module.js';
import { createMediaUrls } from './media/media-urls.js';
import { createDayActivityQuery } from './queries/day-activity-query.js';
import { createPostQueries } from './queries/post-queries.js';
import { seedPosts } from './seed/seed-posts.js';
import { createCacheInvalidationConsumer } from './workers/cache-invalidation-consumer.js';
import { createPostPartitionsJob } from './workers/post-partitions-job.js';
import { createUserEventsConsumer } from './workers/user-events-consumer.js';

export const CONTENT_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

export function createContentHandlers(ctx: ContentContext): ContentHandlers {
  const queries = createPostQueries(ctx);
  return {
    posts: createPostCommands(ctx, queries),
    interactions: createInteractionCommands(ctx, queries),
    queries,
  };
}

export function createContentApi(
  content: ContentHandlers,
  media: MediaPipeline,
  dayActivity: ReturnType<typeof createDayActivityQuery>,
): ContentApiHandlers {
  return {
    getPosts: async ({ ids, viewerId }) => ({ posts: await content.queries.getPosts(ids, viewerId) }),
    getMedia: async ({ ids, viewerId }) => ({ media: await media.getMedia(ids, viewerId) }),
    dayActivity: ({ day, kind, after, limit }) => dayActivity(day, kind, after ?? null, limit ?? 500),
  };
}

/**
 * Posts, comments, likes, hashtags and mentions (and the media pipeline).
 * It needs social's API for profiles, relationships and usernames, and
 * auth's for the edge of a process without auth.
 */
export const contentModule: ServiceModule<ContentApiHandlers, { auth: AuthApi; social: SocialApi }> = {
  name: 'content',
  dependsOn: ['auth', 'social'],
  syncApi: contentSyncApi,
  migrationsDir: path.resolve(CONTENT_MIGRATIONS_DIR),
  config: contentConfig,
  async init(kernel, deps) {
    const ctx = await createContentContext(kernel, deps);
    const content = createContentHandlers(ctx);
    const media = createMediaPipeline(
      kernel,
      ctx,
      createMediaUrls(kernel.blobs, kernel.config.http.publicUrl),
    );
    return {
      api: createContentApi(content, media, createDayActivityQuery(ctx.database.db)),
      routes: {
        api: async (app) => {
          registerContentRoutes(app, content);
          await media.registerRoutes(app);
        },
      },
      workers: [
        createUserEventsConsumer(ctx),
        createCacheInvalidationConsumer(ctx),
        createPostPartitionsJob(ctx),
        ...media.workers,
      ],
    };
  },
  seed: seedPosts,
};

export type { ContentContext } from './context.js';
export type { MediaAttachments } from './media-attachments.js';
export type { ContentTables } from './store/tables.js';
