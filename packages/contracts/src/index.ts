export * from './apis/analytics-api.js';
export * from './apis/auth-api.js';
export * from './apis/common.js';
export * from './apis/content-api.js';
export * from './apis/day-activity.js';
export * from './apis/social-api.js';
export * from './apis/social-snapshots.js';
export * from './boot.js';
export * from './events/analytics-events.js';
export * from './events/auth-events.js';
export * from './events/content-events.js';
export * from './events/live-events.js';
export * from './events/media-events.js';
export * from './events/messaging-events.js';
export * from './events/registry.js';
export * from './events/social-events.js';
export * from './events/topics.js';
export * from './revocation.js';

import { analyticsSyncApi } from './apis/analytics-api.js';
import { authSyncApi } from './apis/auth-api.js';
import { contentSyncApi } from './apis/content-api.js';
import { socialSyncApi } from './apis/social-api.js';

/** The sync APIs a module may depend on, by service name. */
export interface ServiceApis {
  auth: import('./apis/auth-api.js').AuthApi;
  social: import('./apis/social-api.js').SocialApi;
  content: import('./apis/content-api.js').ContentApi;
  analytics: import('./apis/analytics-api.js').AnalyticsApi;
}

/** Every declared sync API by owning service: what a registry binds and a gRPC server exposes. */
export const SYNC_APIS = {
  auth: authSyncApi,
  social: socialSyncApi,
  content: contentSyncApi,
  analytics: analyticsSyncApi,
} as const;
