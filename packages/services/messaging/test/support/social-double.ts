import { randomUUID } from 'node:crypto';
import type { Profile, SocialApi } from '@nova/contracts';

/**
 * The two methods of social's sync API messaging calls (getProfiles,
 * relationships) over an in-memory set of accounts and blocks, answering as
 * the contract says; the e2e suites run the real social. Any other method
 * fails the test loudly.
 */
export interface MessagingSocialDouble extends SocialApi {
  addUser(): string;
  block(blockerId: string, blockedId: string): void;
  unblock(blockerId: string, blockedId: string): void;
}

export function createSocialDouble(): MessagingSocialDouble {
  const accounts = new Map<string, Profile>();
  const blocks = new Set<string>();
  const edge = (a: string, b: string) => `${a}>${b}`;
  const unused = async (): Promise<never> => {
    throw new Error('messaging does not call this social method');
  };
  return {
    async getProfiles({ ids, viewerId }) {
      const visible = (id: string) =>
        !viewerId || viewerId === id || !(blocks.has(edge(viewerId, id)) || blocks.has(edge(id, viewerId)));
      return {
        profiles: [...new Set(ids)].flatMap((id) =>
          accounts.has(id) && visible(id) ? [accounts.get(id) as Profile] : [],
        ),
      };
    },
    async relationships({ viewerId, ids }) {
      return {
        relationships: [...new Set(ids)].map((userId) => ({
          userId,
          following: false,
          followRequested: false,
          followedBy: false,
          blocking: blocks.has(edge(viewerId, userId)),
          blockedBy: blocks.has(edge(userId, viewerId)),
          muting: false,
        })),
      };
    },
    resolveUsernames: unused,
    followersPage: unused,
    listFollows: unused,
    dayActivity: unused,
    addUser() {
      const id = randomUUID();
      accounts.set(id, {
        id,
        username: `u_${id.slice(0, 8)}`,
        displayName: null,
        bio: null,
        avatarMediaId: null,
        isPrivate: false,
        followerCount: 0,
        followingCount: 0,
        postCount: 0,
        createdAt: new Date().toISOString(),
      });
      return id;
    },
    block: (a, b) => void blocks.add(edge(a, b)),
    unblock: (a, b) => void blocks.delete(edge(a, b)),
  };
}
