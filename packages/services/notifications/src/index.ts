import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthApi, SocialApi } from '@nova/contracts';
import type { ServiceModule } from '@nova/kernel';
import type { NotificationsHandlers } from './api/notifications-handlers.js';
import { registerNotificationsRoutes } from './api/routes.js';
import { createInboxCommands } from './commands/inbox-commands.js';
import { createNotifyCommands } from './commands/notify-commands.js';
import { notificationsConfig } from './config.js';
import { createNotificationsContext, type NotificationsContext } from './context.js';
import { createInboxQueries } from './queries/inbox-queries.js';
import { createContentEventsConsumer } from './workers/content-events-consumer.js';
import { createMessageEventsConsumer } from './workers/message-events-consumer.js';
import { createPushDeliveryWorker } from './workers/push-delivery-worker.js';
import { createRetentionJob } from './workers/retention-job.js';
import { createSocialEventsConsumer } from './workers/social-events-consumer.js';
import { createSocketDeliveryWorker } from './workers/socket-delivery-worker.js';
import { createUserEventsConsumer } from './workers/user-events-consumer.js';

export const NOTIFICATIONS_MIGRATIONS_DIR = fileURLToPath(new URL('../migrations', import.meta.url));

export function createNotificationsHandlers(ctx: NotificationsContext): NotificationsHandlers {
  return { inbox: createInboxCommands(ctx), queries: createInboxQueries(ctx) };
}

/** Every worker of the service: the event consumers, the two delivery queues, the retention job. */
export function createNotificationsWorkers(ctx: NotificationsContext) {
  const notify = createNotifyCommands(ctx);
  return [
    createSocialEventsConsumer(ctx, notify),
    createContentEventsConsumer(ctx, notify),
    createMessageEventsConsumer(ctx, notify),
    createUserEventsConsumer(ctx),
    createSocketDeliveryWorker(ctx),
    createPushDeliveryWorker(ctx),
    createRetentionJob(ctx),
  ];
}

/**
 * Notifications: grouped in-app notifications built from social's,
 * content's and messaging's events, live on the socket (`notification` channel) and as Web
 * Push (RFC 8291 + VAPID). Social's API says who blocks or mutes whom and
 * names the actors; auth's verifies tokens at the edge of a split process.
 */
export const notificationsModule: ServiceModule<undefined, { auth: AuthApi; social: SocialApi }> = {
  name: 'notifications',
  dependsOn: ['auth', 'social'],
  migrationsDir: path.resolve(NOTIFICATIONS_MIGRATIONS_DIR),
  config: notificationsConfig,
  async init(kernel, deps) {
    const ctx = await createNotificationsContext(kernel, deps);
    const notifications = createNotificationsHandlers(ctx);
    return {
      api: undefined,
      routes: { api: (app) => registerNotificationsRoutes(app, notifications) },
      workers: createNotificationsWorkers(ctx),
    };
  },
};

export type { NotificationsContext } from './context.js';
export type { NotificationsTables } from './store/tables.js';
