import type { Principal } from '@nova/kernel';

export interface Account {
  id: string;
  username: string;
  email: string;
  emailVerified: boolean;
  createdAt: string;
}

/** The auth service's sync API (batch-first). */
export interface AuthApi {
  /** Signature, expiry and revocation; throws UnauthenticatedError. */
  verifyToken(token: string): Promise<Principal>;
  /** One query whatever the list size; unknown ids are omitted. */
  getAccounts(ids: readonly string[]): Promise<Account[]>;
}
