/**
 * What a notification is about. `follow_request` is switched with `follow`
 * (the preference kinds are API.md's five).
 */
export const NOTIFICATION_KINDS = [
  'follow',
  'follow_request',
  'like',
  'comment',
  'mention',
  'message',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const PREFERENCE_KINDS = ['follow', 'like', 'comment', 'mention', 'message'] as const;
export type PreferenceKind = (typeof PREFERENCE_KINDS)[number];
export type Preferences = Record<PreferenceKind, boolean>;

export const ALL_ON: Preferences = { follow: true, like: true, comment: true, mention: true, message: true };

export function preferenceOf(kind: NotificationKind): PreferenceKind {
  return kind === 'follow_request' ? 'follow' : kind;
}

/** What a notification's target id names. */
export function targetTypeOf(kind: NotificationKind): 'user' | 'post' | 'conversation' {
  if (kind === 'follow' || kind === 'follow_request') return 'user';
  if (kind === 'message') return 'conversation';
  return 'post';
}

export function isNotificationKind(value: string): value is NotificationKind {
  return (NOTIFICATION_KINDS as readonly string[]).includes(value);
}

/**
 * One action that notifies someone: `actorId` did `kind` to `targetId`
 * (a post, a conversation, or the recipient's account), identified within
 * (kind, target) by `sourceId` (the liker, the comment, the message).
 */
export interface NotifyingAction {
  recipientId: string;
  kind: NotificationKind;
  targetId: string;
  actorId: string;
  sourceId: string;
  actedAt: Date;
}

/** An action taken back: the notification built from it is withdrawn. */
export interface WithdrawnAction {
  kind: NotificationKind;
  targetId: string;
  sourceId: string;
  /** Known for every kind but comments (comment.deleted does not name the post's author). */
  recipientId?: string;
}

/** Most actors a notification names; the count says how many there were. */
export const LATEST_ACTORS = 3;

/**
 * What one event asks of the notifications, applied in log order with the
 * rest of its batch: an action to notify, an action taken back, or a target
 * that is gone with every notification about it.
 */
export type NotificationChange =
  | { op: 'notify'; action: NotifyingAction }
  | { op: 'withdraw'; withdrawn: WithdrawnAction }
  | { op: 'targetGone'; targetId: string; kinds: readonly NotificationKind[] };
