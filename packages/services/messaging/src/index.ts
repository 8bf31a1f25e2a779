import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthApi } from '@nova/contracts';
import type { ServiceModule } from '@nova/kernel';
import type { MessagingHandlers } from './api/messaging-handlers.js';
import { registerMessagingRoutes } from './api/routes.js';
import { createKeyCommands } from './commands/key-commands.js';
import { messagingConfig } from './config.js';
import { createMessagingContext, type MessagingContext } from './context.js';
import { createKeyQueries } from './queries/key-queries.js';
import { createUserEventsConsumer } from './workers/user-events-consumer.js';

export const MESSAGING_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

export function createMessagingHandlers(ctx: MessagingContext): MessagingHandlers {
  return { keys: createKeyCommands(ctx), queries: createKeyQueries(ctx) };
}

/**
 * End-to-end encrypted messaging. This slice is the device key directory
 * (devices, their public keys, one-time pre-keys claimed once). It needs
 * auth's API only for the edge of a process without auth; it serves no sync
 * API yet.
 */
export const messagingModule: ServiceModule<undefined, { auth: AuthApi }> = {
  name: 'messaging',
  dependsOn: ['auth'],
  migrationsDir: path.resolve(MESSAGING_MIGRATIONS_DIR),
  config: messagingConfig,
  async init(kernel) {
    const ctx = await createMessagingContext(kernel);
    const messaging = createMessagingHandlers(ctx);
    return {
      api: undefined,
      routes: { api: (app) => registerMessagingRoutes(app, messaging) },
      workers: [createUserEventsConsumer(ctx)],
    };
  },
};

export type { MessagingContext } from './context.js';
export type { MessagingTables } from './store/tables.js';
