import type { Profile } from '@nova/contracts';
import { toIso } from '@nova/kernel';
import type { Selectable } from 'kysely';
import type { ProfilesTable } from './tables.js';

export type ProfileRow = Selectable<ProfilesTable>;

export const PROFILE_COLUMNS = [
  'id',
  'username',
  'display_name',
  'bio',
  'avatar_media_id',
  'is_private',
  'follower_count',
  'following_count',
  'post_count',
  'created_at',
] as const;

export function toProfile(row: ProfileRow): Profile {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    bio: row.bio,
    avatarMediaId: row.avatar_media_id,
    isPrivate: row.is_private,
    followerCount: Number(row.follower_count),
    followingCount: Number(row.following_count),
    postCount: Number(row.post_count),
    createdAt: toIso(row.created_at),
  };
}
