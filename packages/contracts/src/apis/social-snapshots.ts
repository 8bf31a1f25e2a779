import type { SnapshotPage } from '@nova/kernel';
import { type FollowSnapshotEdge, MAX_FOLLOWS_PAGE, type SocialApi } from './social-api.js';

/**
 * The follow graph as a backfill reads it (`BackfillSpec.read`): one
 * listFollows call per page, through whichever binding the registry gave
 * (in-process, or gRPC with its deadline, retries and breaker).
 */
export function socialFollowsSnapshot(
  social: Pick<SocialApi, 'listFollows'>,
): (cursor: string | null, limit: number) => Promise<SnapshotPage<FollowSnapshotEdge>> {
  return async (cursor, limit) => {
    const page = await social.listFollows({ after: cursor, limit: Math.min(limit, MAX_FOLLOWS_PAGE) });
    return { items: page.edges, nextCursor: page.nextCursor };
  };
}
