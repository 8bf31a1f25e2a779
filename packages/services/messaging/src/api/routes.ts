import type { NovaApp } from '@nova/kernel';
import { registerConversationRoutes } from './conversation-routes.js';
import { registerKeyRoutes } from './key-routes.js';
import { registerMessageRoutes } from './message-routes.js';
import type { MessagingHandlers } from './messaging-handlers.js';

/** Every public route of messaging, relative to the API prefix. */
export function registerMessagingRoutes(app: NovaApp, messaging: MessagingHandlers): void {
  registerKeyRoutes(app, messaging);
  registerConversationRoutes(app, messaging);
  registerMessageRoutes(app, messaging);
}
