import { randomUUID } from 'node:crypto';
import { NOVA_CONTRACTS } from '@nova/contracts';
import { type Database, UnauthenticatedError } from '@nova/kernel';
import type { AnyApi } from '@nova/kernel/boot';
import { type DatabaseKind, type StartedModules, startModules } from '@nova/kernel/testing';
import { sql } from 'kysely';
import type { SocialHandlers } from '../../src/api/social-handlers.js';
import { createProfileFromRegistration, purgeDeletedUser } from '../../src/commands/profile-commands.js';
import { createSocialContext, type SocialContext } from '../../src/context.js';
import { createSocialHandlers, socialModule } from '../../src/index.js';
import type { SocialTables } from '../../src/store/tables.js';

/** n user ids, typed as a tuple so suites can destructure them. */
export type Ids<N extends number, T extends string[] = []> = T['length'] extends N
  ? T
  : Ids<N, [...T, string]>;

/**
 * Auth's API as social's edge sees it, standing in for auth (not started
 * here): the bearer token `token-<userId>` is that user's.
 */
const authStandIn = {
  verifyToken: async ({ token }: { token: string }) => {
    if (!token.startsWith('token-')) throw new UnauthenticatedError('invalid_token');
    return { userId: token.slice(6), sessionId: 's', tokenId: 't', expiresAt: Date.now() / 1000 + 600 };
  },
} as unknown as AnyApi;

export interface SocialFixture {
  /** Social as `nova start --target=social` boots it (no listener, no workers: nothing publishes here). */
  nova: StartedModules;
  database: Database<SocialTables>;
  ctx: SocialContext;
  /** The service's handlers over the booted process's database. */
  social: SocialHandlers;
  /** Registers n users the way the consumer does (profile from user.registered); returns their ids. */
  addUsers<N extends number>(n: N): Promise<Ids<N>>;
  /** Applies a user.deleted the way the consumer does. */
  purge(userId: string): Promise<void>;
  /** Events in the outbox whose aggregate id (the acting user) is `actorId`, oldest first. */
  outboxEvents(actorId: string): Promise<{ type: string; payload: unknown }[]>;
  close(): Promise<void>;
}

let counter = 0;

export async function openSocialFixture(database: DatabaseKind): Promise<SocialFixture> {
  const nova = await startModules({
    modules: [socialModule],
    contracts: NOVA_CONTRACTS,
    database,
    provided: { auth: authStandIn },
    listen: false,
    workers: false,
  });
  const ctx = await createSocialContext(nova.kernel);
  const db = ctx.database;
  return {
    nova,
    database: db,
    ctx,
    social: createSocialHandlers(ctx),
    async addUsers<N extends number>(n: N): Promise<Ids<N>> {
      const ids: string[] = [];
      await db.transaction(async (tx) => {
        for (let i = 0; i < n; i++) {
          const id = randomUUID();
          counter++;
          await createProfileFromRegistration(
            tx,
            {
              userId: id,
              username: `u${counter}_${id.slice(0, 8)}`,
              createdAt: new Date().toISOString(),
            },
            ctx.cache,
          );
          ids.push(id);
        }
      });
      return ids as Ids<N>;
    },
    async purge(userId) {
      await db.transaction((tx) => purgeDeletedUser(tx, userId, ctx.cache).then(() => undefined));
    },
    async outboxEvents(actorId) {
      const { rows } = await sql<{ type: string; payload: unknown }>`
        SELECT type, payload FROM ${sql.table(`${db.schema}.outbox`)} WHERE aggregateid = ${actorId} ORDER BY seq`.execute(
        db.db,
      );
      return rows;
    },
    close: () => nova.close(),
  };
}
