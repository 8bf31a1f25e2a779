import type { Database, EventLog, Kernel, Logger } from '@nova/kernel';
import { type MessagingSettings, messagingSettings } from './config.js';
import type { MessagingTables } from './store/tables.js';

/** Exactly what the messaging service needs from the process, nothing more. */
export interface MessagingContext {
  database: Database<MessagingTables>;
  eventLog: EventLog;
  logger: Logger;
  settings: MessagingSettings;
}

export async function createMessagingContext(
  kernel: Kernel,
  overrides: Partial<MessagingContext> = {},
): Promise<MessagingContext> {
  return {
    database: overrides.database ?? (await kernel.databases.open<MessagingTables>('messaging')),
    eventLog: overrides.eventLog ?? kernel.eventLog,
    logger: overrides.logger ?? kernel.logger.child({ service: 'messaging' }),
    settings: overrides.settings ?? messagingSettings(kernel.config),
  };
}
