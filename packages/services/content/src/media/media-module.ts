import type { Media } from '@nova/contracts';
import type { Kernel, NovaApp, Worker } from '@nova/kernel';
import type { ContentContext } from '../context.js';
import { type MediaHandlers, registerMediaRoutes } from './api/media-routes.js';
import { createProcessMedia } from './commands/process-media.js';
import { createUploadMedia } from './commands/upload-media.js';
import { createMediaContext, type MediaContext } from './media-context.js';
import type { MediaUrls } from './media-urls.js';
import { createMediaQueries } from './queries/media-queries.js';
import { createVariantServer } from './queries/variant-server.js';
import { createAvatarConsumer } from './workers/avatar-consumer.js';
import { createMediaCollector } from './workers/media-collector.js';
import { createMediaProcessor } from './workers/media-processor.js';
import { createMediaUploadedConsumer } from './workers/media-uploaded-consumer.js';

export interface MediaPipeline {
  ctx: MediaContext;
  handlers: MediaHandlers;
  getMedia(ids: readonly string[], viewerId?: string): Promise<Media[]>;
  registerRoutes(app: NovaApp): Promise<void>;
  workers: Worker[];
}

/** The media side of content, built on content's context: routes, the getMedia query, its workers. */
export function createMediaPipeline(
  kernel: Pick<Kernel, 'blobs' | 'config'>,
  content: ContentContext,
  urls: MediaUrls,
  overrides: Partial<MediaContext> = {},
): MediaPipeline {
  const ctx = createMediaContext(kernel, content, urls, overrides);
  const queries = createMediaQueries(ctx);
  const handlers: MediaHandlers = {
    upload: createUploadMedia(ctx),
    queries,
    variants: createVariantServer(ctx),
    maxBytes: ctx.settings.maxBytes,
  };
  const processor = createMediaProcessor(ctx, createProcessMedia(ctx));
  return {
    ctx,
    handlers,
    getMedia: (ids, viewerId) => queries.getMany(ids, viewerId),
    registerRoutes: (app) => registerMediaRoutes(app, handlers),
    workers: [
      createMediaUploadedConsumer(ctx, () => processor.wake()),
      processor,
      createMediaCollector(ctx),
      createAvatarConsumer(ctx),
    ],
  };
}
