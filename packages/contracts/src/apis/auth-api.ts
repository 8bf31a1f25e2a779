import { defineSyncApi, type SyncApiClient, type SyncApiHandlers } from '@nova/kernel';
import { type Static, Type } from '@sinclair/typebox';
import { BatchIds, Id } from './common.js';

export const AccountSchema = Type.Object({
  id: Id,
  username: Type.String(),
  email: Type.String(),
  emailVerified: Type.Boolean(),
  createdAt: Type.String({ description: 'ISO 8601 UTC' }),
});
export type Account = Static<typeof AccountSchema>;

export const PrincipalSchema = Type.Object({
  userId: Id,
  sessionId: Type.String(),
  tokenId: Type.String(),
  expiresAt: Type.Integer({ description: 'epoch seconds' }),
});

/** The auth service's sync API (batch-first). */
export const authSyncApi = defineSyncApi('auth', 1, {
  /** Signature, expiry and revocation; fails with UnauthenticatedError. */
  verifyToken: {
    request: Type.Object({ token: Type.String({ minLength: 1, maxLength: 8192 }) }),
    response: PrincipalSchema,
    idempotent: true,
    deadlineMs: 1000,
  },
  /** One query whatever the list size; unknown ids are omitted. */
  getAccounts: {
    request: Type.Object({ ids: BatchIds }),
    response: Type.Object({ accounts: Type.Array(AccountSchema) }),
    idempotent: true,
    deadlineMs: 2000,
  },
});

export type AuthSyncApi = typeof authSyncApi;
export type AuthApi = SyncApiClient<AuthSyncApi>;
export type AuthApiHandlers = SyncApiHandlers<AuthSyncApi>;
