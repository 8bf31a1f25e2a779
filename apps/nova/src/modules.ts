import { analyticsModule } from '@nova/analytics';
import { authModule } from '@nova/auth';
import { contentModule } from '@nova/content';
import type { ServiceApis } from '@nova/contracts';
import { feedModule } from '@nova/feed';
import { createModuleRegistry } from '@nova/kernel/boot';
import { liveModule } from '@nova/live';
import { messagingModule } from '@nova/messaging';
import { notificationsModule } from '@nova/notifications';
import { socialModule } from '@nova/social';

/**
 * The module registry (Mimir's modules.go in miniature): every service this
 * binary can run; the group `all` names them all. Adding a service is its
 * package plus one entry here; target resolution lives in the kernel's boot.
 */
export const REGISTRY = createModuleRegistry([
  authModule,
  socialModule,
  contentModule,
  messagingModule,
  feedModule,
  notificationsModule,
  analyticsModule,
  liveModule,
]);

export const MODULES = REGISTRY.modules;
export const GROUPS = REGISTRY.groups;
export const resolveTarget = REGISTRY.resolveTarget;
export const resolveRemoteDependencies = REGISTRY.resolveRemoteDependencies;

export { TargetError } from '@nova/kernel/boot';
export type { ServiceApis };
