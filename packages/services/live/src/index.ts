import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthApi, SocialApi } from '@nova/contracts';
import type { ServiceModule } from '@nova/kernel';
import type { LiveHandlers } from './api/live-handlers.js';
import { registerLiveRoutes } from './api/routes.js';
import { registerStreamChannels } from './chat/stream-channels.js';
import { createViewerRegistry } from './chat/viewer-registry.js';
import { createIngestCommands } from './commands/ingest-commands.js';
import { createStreamCommands } from './commands/stream-commands.js';
import { liveConfig } from './config.js';
import { createLiveContext } from './context.js';
import { createIngestManager } from './ingest/ingest-manager.js';
import { createStreamQueries } from './queries/stream-queries.js';
import { createRecordingCollector, createStreamSweeper } from './workers/stream-sweeper.js';
import { createUserEventsConsumer } from './workers/user-events-consumer.js';

export const LIVE_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

/**
 * Live streams: the control plane (streams, keys, states), an RTMP ingest
 * in the process, HLS made by ffmpeg and served from the blob store, and
 * chat and viewer counts on the kernel socket. Needs social's relationships
 * (blocks, follows) and auth's API for the edge of a process without auth.
 */
export const liveModule: ServiceModule<undefined, { auth: AuthApi; social: SocialApi }> = {
  name: 'live',
  dependsOn: ['auth', 'social'],
  migrationsDir: path.resolve(LIVE_MIGRATIONS_DIR),
  config: liveConfig,
  async init(kernel, deps) {
    const ctx = await createLiveContext(kernel, deps);
    const ingestCommands = createIngestCommands(ctx);
    const ingest = createIngestManager(ctx, ingestCommands);
    const viewers = createViewerRegistry(ctx);
    const streams = createStreamCommands(ctx, () => ingest.port);
    const live: LiveHandlers = { streams, queries: createStreamQueries(ctx, viewers, () => ingest.port) };
    registerStreamChannels(ctx, viewers, streams);
    viewers.start();
    return {
      api: undefined,
      routes: { api: (app) => registerLiveRoutes(app, live) },
      workers: [
        ingest,
        createStreamSweeper(ctx, ingestCommands),
        createRecordingCollector(ctx),
        createUserEventsConsumer(ctx),
      ],
      async close() {
        viewers.stop();
      },
    };
  },
};

export type { LiveContext } from './context.js';
export type { LiveTables } from './store/tables.js';
