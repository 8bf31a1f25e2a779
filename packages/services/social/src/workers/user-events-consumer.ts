import { AUTH_USER_AGGREGATE, UserDeleted, UserRegistered } from '@nova/contracts';
import { FatalError, topicFor, type Worker } from '@nova/kernel';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { createProfileFromRegistration, purgeDeletedUser } from '../commands/profile-commands.js';
import type { SocialContext } from '../context.js';

export const USER_EVENTS_GROUP = 'social.users';

function payloadOf<T>(schema: TSchema, type: string, payload: unknown): T {
  // A payload that breaks its contract will never succeed: dead-letter it.
  if (!Value.Check(schema, payload)) throw new FatalError(`${type} payload breaks its contract`);
  return payload as T;
}

/**
 * Keeps profiles in step with accounts: a registration creates the profile, a
 * deletion purges the user from the graph. Both effects are idempotent and
 * commit with the processed-event record (exactly-once effects).
 */
export function createUserEventsConsumer(ctx: SocialContext): Worker {
  return ctx.eventLog.consumer({
    group: USER_EVENTS_GROUP,
    topics: [topicFor(AUTH_USER_AGGREGATE)],
    database: ctx.database,
    async handle(event, { tx, log }) {
      switch (event.type) {
        case 'user.registered': {
          const payload = payloadOf<typeof UserRegistered.static>(UserRegistered, event.type, event.payload);
          const outcome = await createProfileFromRegistration(tx, payload);
          log.debug({ userId: payload.userId, outcome }, 'registration applied');
          return;
        }
        case 'user.deleted': {
          const payload = payloadOf<typeof UserDeleted.static>(UserDeleted, event.type, event.payload);
          const existed = await purgeDeletedUser(tx, payload.userId);
          log.info({ userId: payload.userId, existed }, 'user purged from the social graph');
          return;
        }
        default:
          // Other user events (email verified, password changes) do not concern the graph.
          return;
      }
    },
  });
}
