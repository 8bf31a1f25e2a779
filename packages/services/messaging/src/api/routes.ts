import type { NovaApp } from '@nova/kernel';
import { registerKeyRoutes } from './key-routes.js';
import type { MessagingHandlers } from './messaging-handlers.js';

/** Every public route of messaging, relative to the API prefix. */
export function registerMessagingRoutes(app: NovaApp, messaging: MessagingHandlers): void {
  registerKeyRoutes(app, messaging);
}
