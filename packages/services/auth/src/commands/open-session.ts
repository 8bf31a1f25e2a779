import { randomUUID } from 'node:crypto';
import { inTransaction } from '@nova/kernel';
import type { AuthContext } from '../context.js';
import type { ClientInfo } from '../domain/client-info.js';
import { generateToken, hashToken } from '../domain/tokens.js';
import { sessionListCache } from '../store/session-list-cache.js';
import { sessionsRepository } from '../store/sessions-repository.js';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: 'Bearer';
}

/** Starts a refresh-token family and issues its first pair (after a login, or its second step). */
export async function openSession(ctx: AuthContext, userId: string, client: ClientInfo): Promise<TokenPair> {
  const sessionId = randomUUID();
  const refreshToken = generateToken();
  const expiresAt = new Date(Date.now() + ctx.config.auth.refreshTokenTtlSeconds * 1000);
  await inTransaction(ctx.database, async (tx) => {
    await sessionsRepository.insert(tx, { id: sessionId, userId, expiresAt, ...client });
    await sessionsRepository.insertRefreshToken(tx, hashToken(refreshToken), sessionId);
  });
  await sessionListCache.forget(ctx, userId);
  return tokenPair(ctx, userId, sessionId, refreshToken);
}

/** A fresh access token beside a refresh token of the session. */
export async function tokenPair(
  ctx: AuthContext,
  userId: string,
  sessionId: string,
  refreshToken: string,
): Promise<TokenPair> {
  const access = await ctx.accessTokens.issue(userId, sessionId);
  return { accessToken: access.token, refreshToken, expiresIn: access.expiresIn, tokenType: 'Bearer' };
}
