import type { Profile, Relationship } from '@nova/contracts';
import { NotFoundError } from '@nova/kernel';

export type Visibility = 'public' | 'followers' | 'private';

/**
 * Whether `viewerId` (undefined: logged out) may see a live post of an author.
 * `author` is the author's profile as social shows it to the viewer: missing
 * when the account is gone or a block stands either way. A private account's
 * posts are for its approved followers whatever their visibility says.
 */
export function maySee(
  visibility: Visibility,
  viewerId: string | undefined,
  author: Profile | undefined,
  relationship: Relationship | undefined,
): boolean {
  if (!author) return false;
  if (viewerId === author.id) return true;
  if (relationship?.blocking || relationship?.blockedBy) return false;
  if (visibility === 'private') return false;
  if (visibility === 'followers' || author.isPrivate) return relationship?.following === true;
  return true;
}

/** Whether telling visibility needs the viewer's relationship to the author (else the profile decides). */
export function needsRelationship(
  visibility: Visibility,
  viewerId: string | undefined,
  author: Profile,
): boolean {
  return viewerId !== undefined && viewerId !== author.id && (visibility === 'followers' || author.isPrivate);
}

/** The visibilities of an author's posts the viewer may see: the author page's filter. */
export function visibleKinds(
  viewerId: string | undefined,
  author: Profile,
  relationship: Relationship | undefined,
): Visibility[] {
  return (['public', 'followers', 'private'] as const).filter((v) =>
    maySee(v, viewerId, author, relationship),
  );
}

export const postNotFound = (): NotFoundError => new NotFoundError('post_not_found', 'No such post.');
export const commentNotFound = (): NotFoundError =>
  new NotFoundError('comment_not_found', 'No such comment.');
export const userNotFound = (): NotFoundError => new NotFoundError('user_not_found', 'No such user.');
