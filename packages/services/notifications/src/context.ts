import type { SocialApi } from '@nova/contracts';
import type { Database, EventLog, Kernel, Logger, Realtime } from '@nova/kernel';
import { type NotificationsSettings, notificationsSettings } from './config.js';
import { type HostResolver, systemResolver } from './push/public-address.js';
import { loadVapidKeys, type VapidKeys } from './push/vapid-keys.js';
import type { NotificationsTables } from './store/tables.js';

/** Social's sync API as notifications uses it: the names of actors (outside any transaction). */
export type SocialReads = Pick<SocialApi, 'getProfiles'>;

/** Exactly what the notification service needs from the process, nothing more. */
export interface NotificationsContext {
  database: Database<NotificationsTables>;
  eventLog: EventLog;
  realtime: Pick<Realtime, 'publish'>;
  social: SocialReads;
  logger: Logger;
  settings: NotificationsSettings;
  vapid: VapidKeys;
  /** Resolves push endpoint hosts (tests give a fixed table). */
  resolveHost: HostResolver;
  /** How a push request leaves the process (tests may wrap it). */
  fetch: typeof fetch;
}

export async function createNotificationsContext(
  kernel: Kernel,
  deps: { social: SocialReads },
  overrides: Partial<NotificationsContext> = {},
): Promise<NotificationsContext> {
  const settings = overrides.settings ?? notificationsSettings(kernel.config);
  const logger = overrides.logger ?? kernel.logger.child({ service: 'notifications' });
  return {
    database: overrides.database ?? (await kernel.databases.open<NotificationsTables>('notifications')),
    eventLog: overrides.eventLog ?? kernel.eventLog,
    realtime: overrides.realtime ?? kernel.realtime,
    social: overrides.social ?? deps.social,
    logger,
    settings,
    vapid: overrides.vapid ?? (await loadVapidKeys(settings.push.vapid, settings.dataDir, logger)),
    resolveHost: overrides.resolveHost ?? systemResolver,
    fetch: overrides.fetch ?? globalThis.fetch,
  };
}
