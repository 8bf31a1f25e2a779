import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthApi, SocialApi } from '@nova/contracts';
import type { ServiceModule } from '@nova/kernel';
import type { MessagingHandlers } from './api/messaging-handlers.js';
import { registerMessagingRoutes } from './api/routes.js';
import { createConversationCommands } from './commands/conversation-commands.js';
import { createKeyCommands } from './commands/key-commands.js';
import { createMemberChecks } from './commands/member-checks.js';
import { createMessageCommands } from './commands/message-commands.js';
import { messagingConfig } from './config.js';
import { createMessagingContext, type MessagingContext } from './context.js';
import { createKeyQueries } from './queries/key-queries.js';
import { createMessagingQueries } from './queries/messaging-queries.js';
import { registerMessagingChannels } from './realtime/channels.js';
import { createDelivery } from './realtime/delivery.js';
import { createRetentionJob } from './workers/retention-job.js';
import { createUserEventsConsumer } from './workers/user-events-consumer.js';

export const MESSAGING_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

export function createMessagingHandlers(ctx: MessagingContext): MessagingHandlers {
  const checks = createMemberChecks(ctx);
  const delivery = createDelivery(ctx.realtime, ctx.logger);
  const messages = createMessageCommands(ctx, checks, delivery);
  return {
    keys: createKeyCommands(ctx),
    queries: createKeyQueries(ctx),
    conversations: createConversationCommands(ctx, checks, delivery),
    messages,
    reads: createMessagingQueries(ctx, checks, messages),
  };
}

/**
 * End-to-end encrypted messaging: the device key directory, conversations
 * (direct and groups), messages stored as one ciphertext per recipient
 * device, live delivery and receipts on the kernel's socket, message.sent
 * for notifications. It needs social's API (accounts exist, blocks) and
 * auth's for the edge of a process without auth; it serves no sync API.
 */
export const messagingModule: ServiceModule<undefined, { auth: AuthApi; social: SocialApi }> = {
  name: 'messaging',
  dependsOn: ['auth', 'social'],
  migrationsDir: path.resolve(MESSAGING_MIGRATIONS_DIR),
  config: messagingConfig,
  async init(kernel, deps) {
    const ctx = await createMessagingContext(kernel, deps);
    const messaging = createMessagingHandlers(ctx);
    registerMessagingChannels(kernel.realtime, ctx, messaging.messages);
    return {
      api: undefined,
      routes: { api: (app) => registerMessagingRoutes(app, messaging) },
      workers: [createUserEventsConsumer(ctx), createRetentionJob(ctx)],
    };
  },
};

export type { MessagingContext } from './context.js';
export type { MessagingTables } from './store/tables.js';
