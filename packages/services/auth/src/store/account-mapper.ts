import type { Account } from '@nova/contracts';
import type { UserRecord } from './users-repository.js';

/** The public shape of an account (never the password hash). */
export function toAccount(user: UserRecord): Account {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    emailVerified: user.emailVerifiedAt !== null,
    createdAt: user.createdAt,
  };
}
