import type { NovaApp } from '@nova/kernel';
import { registerBlockRoutes } from './block-routes.js';
import { registerFollowRoutes } from './follow-routes.js';
import { registerProfileRoutes } from './profile-routes.js';
import type { SocialHandlers } from './social-handlers.js';
import { registerSuggestionRoutes } from './suggestion-routes.js';

/** Every public route of the social service, relative to the API prefix. */
export function registerSocialRoutes(app: NovaApp, social: SocialHandlers): void {
  registerProfileRoutes(app, social);
  registerSuggestionRoutes(app, social);
  registerFollowRoutes(app, social);
  registerBlockRoutes(app, social);
}
