import { UnprocessableError, ValidationError } from '@nova/kernel';

export const DISPLAY_NAME_MAX = 64;
export const BIO_MAX = 300;
/**
 * Media ids are not checked against the content service yet (it does not
 * exist): any opaque id of this shape is accepted and stored as given.
 */
export const MEDIA_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';

/** A PATCH /users/me body: absent = unchanged, null = cleared. */
export interface ProfilePatch {
  displayName?: string | null;
  bio?: string | null;
  avatarMediaId?: string | null;
  isPrivate?: boolean;
}

export interface EditableProfile {
  displayName: string | null;
  bio: string | null;
  avatarMediaId: string | null;
  isPrivate: boolean;
}

/** Text fields are trimmed; an all-blank value clears the field like null does. */
function normaliseText(
  value: string | null | undefined,
  max: number,
  field: string,
): string | null | undefined {
  if (value === undefined || value === null) return value;
  const trimmed = value.trim();
  if ([...trimmed].length > max) {
    throw new ValidationError(`${field} is longer than ${max} characters.`, [
      { field: `/${field}`, message: `at most ${max} characters` },
    ]);
  }
  return trimmed === '' ? null : trimmed;
}

/** Applies a patch to the current values; the schema has checked the types already. */
export function applyProfilePatch(current: EditableProfile, patch: ProfilePatch): EditableProfile {
  const displayName = normaliseText(patch.displayName, DISPLAY_NAME_MAX, 'displayName');
  const bio = normaliseText(patch.bio, BIO_MAX, 'bio');
  if (patch.avatarMediaId != null && !new RegExp(MEDIA_ID_PATTERN).test(patch.avatarMediaId)) {
    throw new ValidationError('avatarMediaId is not a media id.', [
      { field: '/avatarMediaId', message: 'must match ^[A-Za-z0-9_-]{1,64}$' },
    ]);
  }
  return {
    displayName: displayName === undefined ? current.displayName : displayName,
    bio: bio === undefined ? current.bio : bio,
    avatarMediaId: patch.avatarMediaId === undefined ? current.avatarMediaId : patch.avatarMediaId,
    isPrivate: patch.isPrivate ?? current.isPrivate,
  };
}

/** An account turning public approves its pending requests: nobody is left waiting on a public account. */
export function approvesPendingRequests(before: EditableProfile, after: EditableProfile): boolean {
  return before.isPrivate && !after.isPrivate;
}

export function assertNotSelf(actorId: string, targetId: string, action: 'follow' | 'block' | 'mute'): void {
  if (actorId === targetId) {
    throw new UnprocessableError(`cannot_${action}_self`, `You cannot ${action} yourself.`);
  }
}
