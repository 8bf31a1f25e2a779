import { randomUUID } from 'node:crypto';
import { assertEventPayload } from '@nova/contracts';
import { createLogger, createOutboxWriter, type Database, type EventLog, runMigrations } from '@nova/kernel';
import { type DatabaseKind, openTestDatabases } from '@nova/kernel/testing';
import { sql } from 'kysely';
import type { SocialHandlers } from '../../src/api/social-handlers.js';
import { createProfileFromRegistration, purgeDeletedUser } from '../../src/commands/profile-commands.js';
import type { SocialContext } from '../../src/context.js';
import { createSocialHandlers, SOCIAL_MIGRATIONS_DIR } from '../../src/index.js';
import type { SocialTables } from '../../src/store/tables.js';

/** n user ids, typed as a tuple so suites can destructure them. */
export type Ids<N extends number, T extends string[] = []> = T['length'] extends N
  ? T
  : Ids<N, [...T, string]>;

export interface SocialFixture {
  database: Database<SocialTables>;
  ctx: SocialContext;
  social: SocialHandlers;
  /** Registers n users the way the consumer does (profile from user.registered); returns their ids. */
  addUsers<N extends number>(n: N): Promise<Ids<N>>;
  /** Applies a user.deleted the way the consumer does. */
  purge(userId: string): Promise<void>;
  /** Events in the outbox whose aggregate id (the acting user) is `actorId`, oldest first. */
  outboxEvents(actorId: string): Promise<{ type: string; payload: unknown }[]>;
  close(): Promise<void>;
}

// Repository suites need no event log: nothing consumes here.
const noEventLog: EventLog = {
  kind: 'embedded',
  consumer: () => {
    throw new Error('no event log in repository tests');
  },
  relay: () => null,
  close: async () => undefined,
};

let counter = 0;

export async function openSocialFixture(kind: DatabaseKind): Promise<SocialFixture> {
  const dbs = await openTestDatabases(kind);
  const logger = createLogger('silent');
  const database = await dbs.provider.open<SocialTables>('social');
  await runMigrations(database as unknown as Database<unknown>, SOCIAL_MIGRATIONS_DIR, logger);
  const ctx: SocialContext = {
    database,
    outbox: createOutboxWriter(assertEventPayload),
    eventLog: noEventLog,
    logger,
  };
  const social = createSocialHandlers(ctx);
  return {
    database,
    ctx,
    social,
    async addUsers<N extends number>(n: N): Promise<Ids<N>> {
      const ids: string[] = [];
      await database.transaction(async (tx) => {
        for (let i = 0; i < n; i++) {
          const id = randomUUID();
          counter++;
          await createProfileFromRegistration(tx, {
            userId: id,
            username: `u${counter}_${id.slice(0, 8)}`,
            createdAt: new Date().toISOString(),
          });
          ids.push(id);
        }
      });
      return ids as Ids<N>;
    },
    async purge(userId) {
      await database.transaction((tx) => purgeDeletedUser(tx, userId).then(() => undefined));
    },
    async outboxEvents(actorId) {
      const { rows } = await sql<{ type: string; payload: unknown }>`
        SELECT type, payload FROM ${sql.table(`${database.schema}.outbox`)} WHERE aggregateid = ${actorId} ORDER BY seq`.execute(
        database.db,
      );
      return rows;
    },
    close: () => dbs.close(),
  };
}
