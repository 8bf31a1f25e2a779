export type * from './apis/auth-api.js';
export type * from './apis/social-api.js';
export * from './events/auth-events.js';
export * from './events/registry.js';
export * from './events/social-events.js';
export * from './events/topics.js';
export * from './revocation.js';

/** The sync APIs a module may depend on, by service name. */
export interface ServiceApis {
  auth: import('./apis/auth-api.js').AuthApi;
  social: import('./apis/social-api.js').SocialApi;
}
