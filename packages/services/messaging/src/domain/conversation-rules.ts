import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '@nova/kernel';

/** Members of a group, the caller included (the limit). */
export const MAX_GROUP_MEMBERS = 256;

export type ConversationKind = 'direct' | 'group';

/**
 * The members of a new conversation: the caller plus `memberIds` (the caller
 * may be listed or not; duplicates count once). One other member makes a
 * direct conversation unless `kind` says group; a direct one needs exactly
 * one other member.
 */
export function planConversation(
  callerId: string,
  memberIds: readonly string[],
  kind?: ConversationKind,
): { kind: ConversationKind; memberIds: string[]; others: string[] } {
  const others = [...new Set(memberIds)].filter((id) => id !== callerId);
  if (others.length === 0)
    throw new ValidationError(
      'A conversation needs at least one member besides you.',
      [{ field: '/memberIds', message: 'no member other than the caller' }],
      'no_other_members',
    );
  const resolved: ConversationKind = kind ?? (others.length === 1 ? 'direct' : 'group');
  if (resolved === 'direct' && others.length !== 1)
    throw new ValidationError(
      'A direct conversation has exactly two members.',
      [{ field: '/memberIds', message: 'a direct conversation takes exactly one other member' }],
      'direct_needs_one_member',
    );
  if (others.length + 1 > MAX_GROUP_MEMBERS) throw tooManyMembers();
  return { kind: resolved, memberIds: [callerId, ...others], others };
}

/** The unique key of the direct conversation between two accounts (order-free). */
export function directKey(a: string, b: string): string {
  return a < b ? `${a}:${b}` : `${b}:${a}`;
}

export function tooManyMembers(): ValidationError {
  return new ValidationError(
    `A group has at most ${MAX_GROUP_MEMBERS} members.`,
    [{ field: '/memberIds', message: `more than ${MAX_GROUP_MEMBERS} members` }],
    'too_many_members',
  );
}

/** The same answer for "no such conversation" and "not yours": membership is not revealed. */
export function conversationNotFound(): NotFoundError {
  return new NotFoundError('conversation_not_found', 'No such conversation.');
}

export function usersNotFound(ids: readonly string[]): NotFoundError {
  const error = new NotFoundError('user_not_found', 'Some of these accounts do not exist.');
  Object.assign(error.extensions, { userIds: [...ids] });
  return error;
}

/** Either side of a direct pair blocks the other. */
export function blockedPair(): ForbiddenError {
  return new ForbiddenError('blocked', 'You cannot message this account.');
}

export function notAGroup(): ConflictError {
  return new ConflictError('not_a_group', 'The members of a direct conversation cannot change.');
}

export function onlyCreatorRemoves(): ForbiddenError {
  return new ForbiddenError(
    'not_conversation_creator',
    'Only the group’s creator removes other members; anyone may leave.',
  );
}

/** A direct conversation whose other member is gone (account deleted). */
export function conversationClosed(): ConflictError {
  return new ConflictError('conversation_closed', 'The other member of this conversation is gone.');
}
