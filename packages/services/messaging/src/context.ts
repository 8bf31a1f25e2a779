import type { SocialApi } from '@nova/contracts';
import type { Database, EventLog, Kernel, Logger, OutboxWriter, Realtime } from '@nova/kernel';
import { type MessagingSettings, messagingSettings } from './config.js';
import type { MessagingTables } from './store/tables.js';

/** Exactly what the messaging service needs from the process, nothing more. */
export interface MessagingContext {
  database: Database<MessagingTables>;
  outbox: OutboxWriter;
  eventLog: EventLog;
  logger: Logger;
  settings: MessagingSettings;
  /** Whether accounts exist and who blocks whom: social's sync API. */
  social: SocialApi;
  /** Live delivery: message, receipt and typing frames to members' sockets in any process. */
  realtime: Realtime;
}

export async function createMessagingContext(
  kernel: Kernel,
  deps: { social: SocialApi },
  overrides: Partial<MessagingContext> = {},
): Promise<MessagingContext> {
  return {
    database: overrides.database ?? (await kernel.databases.open<MessagingTables>('messaging')),
    outbox: overrides.outbox ?? kernel.outbox,
    eventLog: overrides.eventLog ?? kernel.eventLog,
    logger: overrides.logger ?? kernel.logger.child({ service: 'messaging' }),
    settings: overrides.settings ?? messagingSettings(kernel.config),
    social: overrides.social ?? deps.social,
    realtime: overrides.realtime ?? kernel.realtime,
  };
}
