import type { NovaApp } from '@nova/kernel';
import { registerInboxRoutes } from './inbox-routes.js';
import type { NotificationsHandlers } from './notifications-handlers.js';
import { registerPushRoutes } from './push-routes.js';

/** Every public route of the notification service, relative to the API prefix. */
export function registerNotificationsRoutes(app: NovaApp, notifications: NotificationsHandlers): void {
  registerInboxRoutes(app, notifications);
  registerPushRoutes(app, notifications);
}
