import type { NovaApp } from '@nova/kernel';
import type { LiveHandlers } from './live-handlers.js';
import { registerStreamRoutes } from './stream-routes.js';

export function registerLiveRoutes(app: NovaApp, live: LiveHandlers): void {
  registerStreamRoutes(app, live);
}
