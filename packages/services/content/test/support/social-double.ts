import { randomUUID } from 'node:crypto';
import type { Profile, Relationship, SocialApi } from '@nova/contracts';

/**
 * Social's sync API over an in-memory graph, for the content suites (a
 * service may not import another; the e2e walks run the real social). It
 * answers as the contract says — profiles of blocked-either-way accounts are
 * left out for a viewer — and counts calls, so hydration tests can assert a
 * constant number of them.
 */
export interface SocialDouble extends SocialApi {
  calls: number;
  addUser(options?: { isPrivate?: boolean; username?: string }): string;
  follow(followerId: string, followeeId: string): void;
  block(blockerId: string, blockedId: string): void;
  remove(userId: string): void;
}

export function createSocialDouble(): SocialDouble {
  const profiles = new Map<string, Profile>();
  const follows = new Set<string>();
  const blocks = new Set<string>();
  const edge = (a: string, b: string) => `${a}>${b}`;
  const blockedEitherWay = (a: string, b: string) => blocks.has(edge(a, b)) || blocks.has(edge(b, a));
  const relationship = (viewerId: string, userId: string): Relationship => ({
    userId,
    following: follows.has(edge(viewerId, userId)),
    followRequested: false,
    followedBy: follows.has(edge(userId, viewerId)),
    blocking: blocks.has(edge(viewerId, userId)),
    blockedBy: blocks.has(edge(userId, viewerId)),
    muting: false,
  });
  let counter = 0;
  const double: SocialDouble = {
    calls: 0,
    async getProfiles({ ids, viewerId }) {
      double.calls++;
      return {
        profiles: [...new Set(ids)].flatMap((id) => {
          const p = profiles.get(id);
          return p && !(viewerId && viewerId !== id && blockedEitherWay(viewerId, id)) ? [p] : [];
        }),
      };
    },
    async relationships({ viewerId, ids }) {
      double.calls++;
      return { relationships: [...new Set(ids)].map((id) => relationship(viewerId, id)) };
    },
    async resolveUsernames({ usernames }) {
      double.calls++;
      const wanted = new Set(usernames.map((u) => u.toLowerCase()));
      return {
        users: [...profiles.values()]
          .filter((p) => wanted.has(p.username.toLowerCase()))
          .map((p) => ({ id: p.id, username: p.username })),
      };
    },
    async followersPage({ userId }) {
      double.calls++;
      const items = [...follows]
        .filter((e) => e.endsWith(`>${userId}`))
        .flatMap((e) => profiles.get(e.split('>')[0] ?? '') ?? []);
      return { items, nextCursor: null };
    },
    async listFollows({ after, limit = 500 }) {
      double.calls++;
      // The real one pages by (followerId, followeeId); the double's cursor is the last edge key.
      const all = [...follows].sort();
      const from = after ? all.findIndex((e) => e > after) : 0;
      const page = from < 0 ? [] : all.slice(from, from + limit);
      const edges = page.map((e) => {
        const [followerId = '', followeeId = ''] = e.split('>');
        return { followerId, followeeId };
      });
      const last = page[page.length - 1];
      return { edges, nextCursor: from >= 0 && from + limit < all.length && last ? last : null };
    },
    async dayActivity() {
      throw new Error('content never asks social for day activity');
    },
    addUser(options = {}) {
      const id = randomUUID();
      counter++;
      profiles.set(id, {
        id,
        username: options.username ?? `user${counter}_${id.slice(0, 6)}`,
        displayName: null,
        bio: null,
        avatarMediaId: null,
        isPrivate: options.isPrivate ?? false,
        followerCount: 0,
        followingCount: 0,
        postCount: 0,
        createdAt: new Date().toISOString(),
      });
      return id;
    },
    follow: (a, b) => void follows.add(edge(a, b)),
    block: (a, b) => void blocks.add(edge(a, b)),
    remove: (id) => void profiles.delete(id),
  };
  return double;
}
