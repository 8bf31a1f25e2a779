import type { NovaApp } from '@nova/kernel';
import type { ContentHandlers } from './content-handlers.js';
import { registerInteractionRoutes } from './interaction-routes.js';
import { registerListRoutes } from './list-routes.js';
import { registerPostRoutes } from './post-routes.js';

/** Every public route of the posts side, relative to the API prefix (the media pipeline adds its own). */
export function registerContentRoutes(app: NovaApp, content: ContentHandlers): void {
  registerPostRoutes(app, content);
  registerListRoutes(app, content);
  registerInteractionRoutes(app, content);
}
