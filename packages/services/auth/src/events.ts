import {
  AUTH_ACCOUNT_MAIL_AGGREGATE,
  AUTH_USER_AGGREGATE,
  type UserDeletedEvent,
  type UserEmailVerifiedEvent,
  type UserPasswordChangedEvent,
  type UserPasswordResetRequestedEvent,
  type UserRegisteredEvent,
} from '@nova/contracts';
import type { OutboxEvent } from '@nova/kernel';

const userEvent = (type: string, userId: string, payload: unknown): OutboxEvent => ({
  aggregateType: AUTH_USER_AGGREGATE,
  aggregateId: userId,
  type,
  payload,
});

/** Typed constructors for the auth events, keyed by user id as the contracts say. */
export const authEvent = {
  userRegistered: (payload: UserRegisteredEvent): OutboxEvent =>
    userEvent('user.registered', payload.userId, payload),
  userEmailVerified: (payload: UserEmailVerifiedEvent): OutboxEvent =>
    userEvent('user.email_verified', payload.userId, payload),
  userPasswordChanged: (payload: UserPasswordChangedEvent): OutboxEvent =>
    userEvent('user.password_changed', payload.userId, payload),
  userDeleted: (payload: UserDeletedEvent): OutboxEvent => userEvent('user.deleted', payload.userId, payload),
  /** Internal: it carries the address and is work for auth's mailer only (never the public topic). */
  passwordResetRequested: (payload: UserPasswordResetRequestedEvent): OutboxEvent => ({
    aggregateType: AUTH_ACCOUNT_MAIL_AGGREGATE,
    aggregateId: payload.userId,
    type: 'user.password_reset_requested',
    payload,
  }),
};
