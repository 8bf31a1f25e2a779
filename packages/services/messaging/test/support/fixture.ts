import { assertEventPayload } from '@nova/contracts';
import { createLogger, createOutboxWriter, type Database, type EventLog, runMigrations } from '@nova/kernel';
import { type DatabaseKind, NO_EVENT_LOG, openTestDatabases, outboxEvents } from '@nova/kernel/testing';
import type { MessagingHandlers } from '../../src/api/messaging-handlers.js';
import type { MessagingContext } from '../../src/context.js';
import { KEY_LIMITS } from '../../src/domain/key-rules.js';
import { createMessagingHandlers, MESSAGING_MIGRATIONS_DIR } from '../../src/index.js';
import type { MessagingTables } from '../../src/store/tables.js';
import { createRecordingRealtime, type RecordingRealtime } from './recording-realtime.js';
import { createSocialDouble, type MessagingSocialDouble } from './social-double.js';
import { fakeKey } from './start-messaging.js';

export interface MessagingFixture {
  database: Database<MessagingTables>;
  ctx: MessagingContext;
  messaging: MessagingHandlers;
  social: MessagingSocialDouble;
  realtime: RecordingRealtime;
  /** A new account (known to social) with these devices registered. */
  user(...deviceIds: string[]): Promise<string>;
  /** Outbox events of these types, oldest first. */
  events(
    ...types: string[]
  ): Promise<{ type: string; aggregateid: string; payload: Record<string, unknown> }[]>;
  close(): Promise<void>;
}

export const TEST_RETENTION_MS = 3_600_000;
export const TEST_UNDELIVERED_RETENTION_MS = 7 * 86_400_000;

/** Messaging's commands and queries on a migrated private database, social and sockets recorded. */
export async function openMessagingFixture(
  kind: DatabaseKind,
  eventLog: EventLog = NO_EVENT_LOG,
): Promise<MessagingFixture> {
  const dbs = await openTestDatabases(kind);
  const logger = createLogger('silent');
  const database = await dbs.provider.open<MessagingTables>('messaging');
  await runMigrations(database, MESSAGING_MIGRATIONS_DIR, logger);
  const social = createSocialDouble();
  const realtime = createRecordingRealtime();
  const ctx: MessagingContext = {
    database,
    outbox: createOutboxWriter(assertEventPayload),
    eventLog,
    logger,
    settings: {
      keys: KEY_LIMITS,
      retentionMs: TEST_RETENTION_MS,
      undeliveredRetentionMs: TEST_UNDELIVERED_RETENTION_MS,
    },
    social,
    realtime,
  };
  const messaging = createMessagingHandlers(ctx);
  return {
    database,
    ctx,
    messaging,
    social,
    realtime,
    async user(...deviceIds) {
      const id = social.addUser();
      for (const deviceId of deviceIds)
        await messaging.keys.publish(id, {
          deviceId,
          identityKey: fakeKey(`id-${id}-${deviceId}`),
          signedPreKey: fakeKey(`spk-${id}-${deviceId}`),
          oneTimePreKeys: [],
        });
      return id;
    },
    events: (...types) => outboxEvents(database, ...types),
    close: () => dbs.close(),
  };
}

/** How a command failed: the error's status, code and extensions (e.g. missingDevices), or 'no error'. */
export async function failureOf(
  promise: Promise<unknown>,
): Promise<({ status: number; code: string } & Record<string, unknown>) | 'no error'> {
  try {
    await promise;
  } catch (error) {
    const { status, code, extensions } = error as { status: number; code: string; extensions?: object };
    return { status, code, ...extensions };
  }
  return 'no error';
}
