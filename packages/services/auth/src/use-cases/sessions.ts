import { randomUUID } from 'node:crypto';
import {
  decodeCursor,
  encodeCursor,
  isUuid,
  NotFoundError,
  type Principal,
  UnauthenticatedError,
  ValidationError,
} from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { AuthContext } from '../context.js';
import { generateToken, hashToken, TOKEN_PATTERN } from '../domain/tokens.js';
import {
  type SessionPosition,
  type SessionRecord,
  sessionsRepository,
} from '../store/sessions-repository.js';
import type { ClientInfo } from './client-info.js';
import { cachedActiveSessions, forgetSessions } from './session-list-cache.js';

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  tokenType: 'Bearer';
}

/** Starts a refresh-token family and issues its first pair. */
export async function openSession(ctx: AuthContext, userId: string, client: ClientInfo): Promise<TokenPair> {
  const sessionId = randomUUID();
  const refreshToken = generateToken();
  const expiresAt = new Date(Date.now() + ctx.config.auth.refreshTokenTtlSeconds * 1000);
  await ctx.database.transaction(async (tx) => {
    await sessionsRepository.insert(tx, { id: sessionId, userId, expiresAt, ...client });
    await sessionsRepository.insertRefreshToken(tx, hashToken(refreshToken), sessionId);
  });
  await forgetSessions(ctx, userId);
  return pair(ctx, userId, sessionId, refreshToken);
}

async function pair(
  ctx: AuthContext,
  userId: string,
  sessionId: string,
  refreshToken: string,
): Promise<TokenPair> {
  const access = await ctx.accessTokens.issue(userId, sessionId);
  return { accessToken: access.token, refreshToken, expiresIn: access.expiresIn, tokenType: 'Bearer' };
}

const invalidRefresh = () =>
  new UnauthenticatedError('invalid_refresh_token', 'The refresh token is invalid or expired.');

/**
 * Rotation: the presented token is claimed in one statement and replaced.
 * A token that exists but was already used means it leaked (or two clients
 * share it): the whole family is revoked, access tokens included — unless it
 * was used only moments ago (REFRESH_REUSE_GRACE_SECONDS): two tabs or a
 * retried request racing the same token get a second pair of the same
 * session instead of logging the user out.
 */
export async function refreshSession(ctx: AuthContext, refreshToken: string): Promise<TokenPair> {
  if (!TOKEN_PATTERN.test(refreshToken)) throw invalidRefresh();
  const hash = hashToken(refreshToken);
  const next = generateToken();
  const graceSeconds = ctx.config.auth.refreshReuseGraceSeconds;
  const outcome = await ctx.database.transaction(async (tx) => {
    const claimed = await sessionsRepository.claimRefreshToken(tx, hash);
    if (claimed) {
      if (claimed.sessionActive) {
        await sessionsRepository.insertRefreshToken(tx, hashToken(next), claimed.sessionId);
        await sessionsRepository.touch(tx, claimed.sessionId);
      }
      return { kind: claimed.sessionActive ? ('rotated' as const) : ('ended' as const), ...claimed };
    }
    const family = await sessionsRepository.findRefreshTokenFamily(tx, hash, graceSeconds);
    if (!family) return null;
    if (!family.sessionActive) return { kind: 'ended' as const, ...family };
    if (!family.usedWithinGrace) return { kind: 'reused' as const, ...family };
    // The duplicate of a moment ago: a token of its own in the same family (which later reuse still revokes).
    await sessionsRepository.insertRefreshToken(tx, hashToken(next), family.sessionId);
    return { kind: 'rotated' as const, ...family };
  });
  if (!outcome) throw invalidRefresh();
  await forgetSessions(ctx, outcome.userId);
  if (outcome.kind === 'rotated') return pair(ctx, outcome.userId, outcome.sessionId, next);
  if (outcome.kind === 'ended') throw invalidRefresh();
  await sessionsRepository.revoke(ctx.database.db, outcome.sessionId);
  await ctx.revocations.revokeSessions([outcome.sessionId]);
  await forgetSessions(ctx, outcome.userId);
  ctx.logger.warn(
    { userId: outcome.userId, sessionId: outcome.sessionId },
    'refresh token reused; session revoked',
  );
  throw new UnauthenticatedError(
    'refresh_token_reused',
    'The refresh token was already used; the session is revoked.',
  );
}

/** Ends the caller's session: its access token and refresh family stop at once. */
export async function logout(ctx: AuthContext, principal: Principal): Promise<void> {
  await sessionsRepository.revoke(ctx.database.db, principal.sessionId, principal.userId);
  await Promise.all([
    ctx.revocations.revokeToken(principal.tokenId, principal.expiresAt),
    ctx.revocations.revokeSessions([principal.sessionId]),
    forgetSessions(ctx, principal.userId),
  ]);
}

export interface SessionView {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

const CursorSchema = Type.Object({ c: Type.String({ maxLength: 40 }), i: Type.String({ maxLength: 40 }) });

export async function listSessions(
  ctx: AuthContext,
  principal: Principal,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: SessionView[]; nextCursor: string | null }> {
  let after: SessionPosition | undefined;
  if (cursor !== undefined) {
    const decoded = decodeCursor<{ c: string; i: string }>(cursor, CursorSchema);
    if (Number.isNaN(Date.parse(decoded.c)) || !isUuid(decoded.i)) {
      throw new ValidationError(
        'The cursor is invalid.',
        [{ field: 'query/cursor', message: 'invalid cursor' }],
        'invalid_cursor',
      );
    }
    after = { createdAt: decoded.c, id: decoded.i };
  }
  const rows = await activeSessionsAfter(ctx, principal.userId, limit + 1, after);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(({ userId: _owner, ...session }) => ({
      ...session,
      current: session.id === principal.sessionId,
    })),
    nextCursor: rows.length > limit && last ? encodeCursor({ c: last.createdAt, i: last.id }) : null,
  };
}

async function activeSessionsAfter(
  ctx: AuthContext,
  userId: string,
  limit: number,
  after: SessionPosition | undefined,
): Promise<SessionRecord[]> {
  const all = await cachedActiveSessions(ctx, userId);
  if (all === null) return sessionsRepository.listActive(ctx.database.db, userId, limit, after);
  // Same order as the SQL keyset: (created_at, id) descending; ISO strings and uuids compare as text.
  const rest = after
    ? all.filter((s) => s.createdAt < after.createdAt || (s.createdAt === after.createdAt && s.id < after.id))
    : all;
  return rest.slice(0, limit);
}

/** Revokes one of the caller's sessions; 404 for anyone else's (or an unknown one). */
export async function revokeOwnSession(
  ctx: AuthContext,
  principal: Principal,
  sessionId: string,
): Promise<void> {
  const revoked = await sessionsRepository.revoke(ctx.database.db, sessionId, principal.userId);
  if (!revoked) throw new NotFoundError('session_not_found', 'No such active session.');
  await Promise.all([ctx.revocations.revokeSessions([sessionId]), forgetSessions(ctx, principal.userId)]);
}
