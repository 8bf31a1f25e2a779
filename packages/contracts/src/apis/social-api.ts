export interface Profile {
  id: string;
  username: string;
  displayName: string | null;
  bio: string | null;
  avatarMediaId: string | null;
  isPrivate: boolean;
  followerCount: number;
  followingCount: number;
  postCount: number;
  createdAt: string;
}

/** How `viewer` relates to another account. */
export interface Relationship {
  userId: string;
  following: boolean;
  followRequested: boolean;
  followedBy: boolean;
  blocking: boolean;
  blockedBy: boolean;
  muting: boolean;
}

export interface ProfilePage {
  items: Profile[];
  nextCursor: string | null;
}

/** The social service's sync API (batch-first: one query per call). */
export interface SocialApi {
  getProfiles(ids: readonly string[]): Promise<Profile[]>;
  relationships(viewerId: string, ids: readonly string[]): Promise<Relationship[]>;
  followersPage(userId: string, cursor: string | null, limit: number): Promise<ProfilePage>;
}
