import type { FollowSnapshotEdge, Profile, ProfilePage, Relationship } from '@nova/contracts';
import { decodeCursor, encodeCursor } from '@nova/kernel';
import { pairKey } from '../cache/social-cache.js';
import { profileNotFound } from '../commands/profile-commands.js';
import type { SocialContext } from '../context.js';
import { EdgeCursor, SeqCursor, SuggestionCursor } from '../domain/cursors.js';
import { assertMayListConnections, userNotFound } from '../domain/visibility.js';
import { type Direction, followRepository } from '../store/follow-repository.js';
import { followRequestRepository } from '../store/follow-request-repository.js';
import { toProfile } from '../store/profile-mapper.js';
import { profileRepository } from '../store/profile-repository.js';
import { queryRelationships, queryTargetView } from '../store/relationship-query.js';
import { querySuggestions } from '../store/suggestion-query.js';

export interface ProfileWithRelationship extends Profile {
  relationship?: Relationship;
}
export interface FollowRequestItem {
  user: Profile;
  requestedAt: string;
}
export interface Suggestion extends Profile {
  mutualCount: number;
}
export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
}

const afterSeq = (cursor: string | null | undefined): string | null =>
  cursor ? decodeCursor<SeqCursor>(cursor, SeqCursor).s : null;

/** Reads limit + 1 rows so the last page knows it is the last. */
function paginate<R, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
  position: (row: R) => object,
): ListPage<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(map),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(position(last)) : null,
  };
}

export function createGraphQueries(ctx: SocialContext) {
  const db = ctx.database.db;
  const { cache } = ctx;

  /** Profiles by id through the cache; unknown ids are absent. */
  const profilesById = (ids: readonly string[]): Promise<Map<string, Profile>> =>
    cache.profiles.getMany(ids, async (missing) => {
      const rows = await profileRepository.findByIds(db, missing);
      return new Map(rows.map((r) => [r.id, toProfile(r)]));
    });

  /** The viewer's relationship to each distinct id, in the order asked, through the cache. */
  const relationshipsOf = async (viewerId: string, ids: readonly string[]): Promise<Relationship[]> => {
    const unique = [...new Set(ids)];
    const prefix = pairKey(viewerId, '');
    const found = await cache.relationships.getMany(
      unique.map((id) => pairKey(viewerId, id)),
      async (missing) => {
        const rows = await queryRelationships(
          db,
          viewerId,
          missing.map((key) => key.slice(prefix.length)),
        );
        return new Map(rows.map((r) => [pairKey(viewerId, r.userId), r]));
      },
    );
    return unique.flatMap((id) => found.get(pairKey(viewerId, id)) ?? []);
  };

  /** The account id of a username (case-insensitive) through the cache. */
  const idOfUsername = async (username: string): Promise<string | undefined> => {
    const lower = username.toLowerCase();
    const found = await cache.usernames.getMany([lower], async (missing) => {
      const rows = await profileRepository.findIdsByUsernames(db, missing);
      return new Map(rows.map((r) => [r.username.toLowerCase(), r.id]));
    });
    return found.get(lower);
  };

  const edgePage = async (
    userId: string,
    direction: Direction,
    cursor: string | null | undefined,
    limit: number,
    viewerId?: string,
  ) => {
    const rows = await followRepository.page(db, userId, direction, afterSeq(cursor), limit + 1, viewerId);
    return paginate(rows, limit, toProfile, (r) => ({ s: r.seq }));
  };

  return {
    async me(userId: string): Promise<Profile> {
      const profile = (await profilesById([userId])).get(userId);
      if (!profile) throw profileNotFound();
      return profile;
    },

    /** A profile by username; with a viewer, its relationship, and 404 when blocked either way. */
    async byUsername(viewerId: string | undefined, username: string): Promise<ProfileWithRelationship> {
      const id = await idOfUsername(username);
      const profile = id === undefined ? undefined : (await profilesById([id])).get(id);
      if (!profile) throw userNotFound();
      if (viewerId === undefined || viewerId === profile.id) return profile;
      const [relationship] = await relationshipsOf(viewerId, [profile.id]);
      if (!relationship || relationship.blocking || relationship.blockedBy) throw userNotFound();
      return { ...profile, relationship };
    },

    /**
     * Followers or followees as the viewer may see them (see domain/visibility.ts):
     * a private account's lists only for its owner and approved followers (anonymous
     * callers included), and never an account the viewer blocks or is blocked by.
     */
    async connections(
      viewerId: string | undefined,
      userId: string,
      direction: Direction,
      cursor: string | undefined,
      limit: number,
    ): Promise<ListPage<Profile>> {
      assertMayListConnections(viewerId, userId, await queryTargetView(db, viewerId, userId));
      return edgePage(userId, direction, cursor, limit, viewerId);
    },

    /** Sync API: no viewer rules, the calling service applies its own. */
    async followersPage(userId: string, cursor: string | null, limit: number): Promise<ProfilePage> {
      return edgePage(userId, 'followers', cursor, Math.min(Math.max(1, limit), 1000));
    },

    /** Sync API: the whole follow graph in keyset pages (the backfill snapshot of ADR 018). */
    async listFollows(cursor: string | null, limit: number): Promise<ListPage<FollowSnapshotEdge>> {
      const after = cursor ? decodeCursor<EdgeCursor>(cursor, EdgeCursor) : null;
      const size = Math.min(Math.max(1, limit), 1000);
      const rows = await followRepository.list(
        db,
        after && { followerId: after.f, followeeId: after.e },
        size + 1,
      );
      return paginate(
        rows,
        size,
        (r) => r,
        (r) => ({ f: r.followerId, e: r.followeeId }),
      );
    },

    async incomingRequests(
      userId: string,
      cursor: string | undefined,
      limit: number,
    ): Promise<ListPage<FollowRequestItem>> {
      const rows = await followRequestRepository.page(db, userId, afterSeq(cursor), limit + 1);
      return paginate(
        rows,
        limit,
        (r) => ({ user: toProfile(r), requestedAt: new Date(r.requested_at).toISOString() }),
        (r) => ({ s: r.seq }),
      );
    },

    async suggestions(
      userId: string,
      cursor: string | undefined,
      limit: number,
    ): Promise<ListPage<Suggestion>> {
      const after = cursor ? decodeCursor<SuggestionCursor>(cursor, SuggestionCursor) : null;
      const rows = await querySuggestions(db, userId, after, limit + 1);
      return paginate(
        rows,
        limit,
        (r) => ({ ...toProfile(r), mutualCount: Number(r.mutual_count) }),
        (r) => ({ m: Number(r.mutual_count), f: Number(r.follower_count), id: r.id }),
      );
    },

    /**
     * Sync API: unknown ids are omitted, the others come in the order asked;
     * with a viewer, accounts on either side of a block with the viewer are
     * left out. From the cache, one query for what it misses.
     */
    async getProfiles(ids: readonly string[], viewerId?: string): Promise<Profile[]> {
      const [byId, relations] = await Promise.all([
        profilesById(ids),
        viewerId ? relationshipsOf(viewerId, ids) : Promise.resolve([]),
      ]);
      const hidden = new Set(relations.filter((r) => r.blocking || r.blockedBy).map((r) => r.userId));
      return [...new Set(ids)].flatMap((id) => (hidden.has(id) ? [] : (byId.get(id) ?? [])));
    },

    /** Sync API: one query; unknown usernames are omitted. */
    async resolveUsernames(usernames: readonly string[]): Promise<{ id: string; username: string }[]> {
      return profileRepository.findIdsByUsernames(db, usernames);
    },

    /** Sync API: one entry per distinct id, in the order asked; from the cache, one query for what it misses. */
    async relationships(viewerId: string, ids: readonly string[]): Promise<Relationship[]> {
      return relationshipsOf(viewerId, ids);
    },
  };
}

export type GraphQueries = ReturnType<typeof createGraphQueries>;
