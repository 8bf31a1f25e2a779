import { ForbiddenError, NotFoundError } from '@nova/kernel';

/** What the store knows about one account as seen by one viewer. */
export interface TargetView {
  exists: boolean;
  isPrivate: boolean;
  /** Either side blocks the other. */
  blocked: boolean;
  /** The viewer is an approved follower. */
  viewerFollows: boolean;
}

export const userNotFound = (): NotFoundError =>
  new NotFoundError('user_not_found', 'The user does not exist.');

/** Blocks make an account invisible in both directions, indistinguishable from a missing one. */
export function assertVisible(view: TargetView): void {
  if (!view.exists || view.blocked) throw userNotFound();
}

/**
 * Follower and following lists of a private account are for its owner and its
 * approved followers; anyone else — an anonymous caller is no different from
 * a signed-in non-follower — gets 403 (not 404): the account's card is public
 * knowledge through GET /users/{username}, only its connections are not.
 * Inside a visible list, accounts blocked either way are left out (the
 * repository filters them, see followRepository.page).
 */
export function assertMayListConnections(
  viewerId: string | undefined,
  ownerId: string,
  view: TargetView,
): void {
  assertVisible(view);
  if (!view.isPrivate || viewerId === ownerId || view.viewerFollows) return;
  throw new ForbiddenError(
    'private_account',
    'This account is private: only its approved followers see its connections.',
  );
}

export type FollowState = 'following' | 'requested';

/** A private account turns a follow into a request unless it is already approved. */
export function followOutcome(isPrivate: boolean, alreadyFollowing: boolean): FollowState {
  return alreadyFollowing || !isPrivate ? 'following' : 'requested';
}
