import type { SocialApiHandlers } from '@nova/contracts';
import type { createDayFollowsQuery } from '../queries/day-follows-query.js';
import type { GraphQueries } from '../queries/graph-queries.js';

/** Social's sync API (in-process or gRPC, ADR 015): each method one batch query. */
export function createSocialSyncApi(
  queries: GraphQueries,
  dayFollows: ReturnType<typeof createDayFollowsQuery>,
): SocialApiHandlers {
  return {
    getProfiles: async ({ ids, viewerId }) => ({ profiles: await queries.getProfiles(ids, viewerId) }),
    relationships: async ({ viewerId, ids }) => ({
      relationships: await queries.relationships(viewerId, ids),
    }),
    resolveUsernames: async ({ usernames }) => ({ users: await queries.resolveUsernames(usernames) }),
    followersPage: ({ userId, cursor, limit }) => queries.followersPage(userId, cursor ?? null, limit ?? 20),
    listFollows: async ({ after, limit }) => {
      const page = await queries.listFollows(after ?? null, limit ?? 500);
      return { edges: page.items, nextCursor: page.nextCursor };
    },
    dayActivity: ({ day, after, limit }) => dayFollows(day, after ?? null, limit ?? 500),
  };
}
