import { type Static, Type } from '@sinclair/typebox';

/** Events of the auth service's user aggregate, topic nova.auth.user.v1, key = userId. */
export const AUTH_USER_AGGREGATE = 'auth.user';

export const UserRegistered = Type.Object({
  userId: Type.String(),
  email: Type.String(),
  username: Type.String(),
  createdAt: Type.String(),
});
export const UserEmailVerified = Type.Object({ userId: Type.String(), email: Type.String() });
export const UserPasswordChanged = Type.Object({ userId: Type.String() });
/** Internal to auth: the mailer creates the reset token; no secret travels in events. */
export const UserPasswordResetRequested = Type.Object({ userId: Type.String(), email: Type.String() });
export const UserDeleted = Type.Object({ userId: Type.String(), deletedAt: Type.String() });

export const authEvents = {
  'user.registered': UserRegistered,
  'user.email_verified': UserEmailVerified,
  'user.password_changed': UserPasswordChanged,
  'user.password_reset_requested': UserPasswordResetRequested,
  'user.deleted': UserDeleted,
} as const;

export type UserRegisteredEvent = Static<typeof UserRegistered>;
export type UserEmailVerifiedEvent = Static<typeof UserEmailVerified>;
export type UserPasswordChangedEvent = Static<typeof UserPasswordChanged>;
export type UserPasswordResetRequestedEvent = Static<typeof UserPasswordResetRequested>;
export type UserDeletedEvent = Static<typeof UserDeleted>;
