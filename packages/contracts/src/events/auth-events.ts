import { type Static, Type } from '@sinclair/typebox';

/**
 * Events of the auth service's user aggregate, topic nova.auth.user.v1, key =
 * userId. A PUBLIC topic: every service may read it, so its payloads carry no
 * personal data beyond the public username (no email: a service that needs
 * an address asks auth's sync API) and no auth-internal requests.
 */
export const AUTH_USER_AGGREGATE = 'auth.user';

/**
 * Auth's INTERNAL aggregate, topic nova.auth.account_mail.v1, key = userId:
 * work for auth's own workers (the mailer) that carries personal data.
 * Only consumer groups of auth may subscribe (typedConsumer refuses others);
 * on Kafka, grant read access to auth's principal only (docs/debezium.md).
 */
export const AUTH_ACCOUNT_MAIL_AGGREGATE = 'auth.account_mail';

export const UserRegistered = Type.Object({
  userId: Type.String(),
  username: Type.String(),
  createdAt: Type.String(),
});
export const UserEmailVerified = Type.Object({ userId: Type.String() });
export const UserPasswordChanged = Type.Object({ userId: Type.String() });
export const UserDeleted = Type.Object({ userId: Type.String(), deletedAt: Type.String() });
/**
 * The mailer creates the reset token (no secret travels in events) and sends
 * it only if the account's address is still this one.
 */
export const UserPasswordResetRequested = Type.Object({ userId: Type.String(), email: Type.String() });

/** The public user events (nova.auth.user.v1). */
export const authEvents = {
  'user.registered': UserRegistered,
  'user.email_verified': UserEmailVerified,
  'user.password_changed': UserPasswordChanged,
  'user.deleted': UserDeleted,
} as const;

/** Auth-internal events (nova.auth.account_mail.v1). */
export const authInternalEvents = {
  'user.password_reset_requested': UserPasswordResetRequested,
} as const;

export type UserRegisteredEvent = Static<typeof UserRegistered>;
export type UserEmailVerifiedEvent = Static<typeof UserEmailVerified>;
export type UserPasswordChangedEvent = Static<typeof UserPasswordChanged>;
export type UserPasswordResetRequestedEvent = Static<typeof UserPasswordResetRequested>;
export type UserDeletedEvent = Static<typeof UserDeleted>;
