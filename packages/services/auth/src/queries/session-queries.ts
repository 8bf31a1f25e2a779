import { decodeCursor, encodeCursor, isUuid, type Principal, ValidationError } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { AuthContext } from '../context.js';
import { sessionListCache } from '../store/session-list-cache.js';
import {
  type SessionPosition,
  type SessionRecord,
  sessionsRepository,
} from '../store/sessions-repository.js';

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

function decodePosition(cursor: string): SessionPosition {
  const decoded = decodeCursor<{ c: string; i: string }>(cursor, CursorSchema);
  if (Number.isNaN(Date.parse(decoded.c)) || !isUuid(decoded.i)) {
    throw new ValidationError(
      'The cursor is invalid.',
      [{ field: 'query/cursor', message: 'invalid cursor' }],
      'invalid_cursor',
    );
  }
  return { createdAt: decoded.c, id: decoded.i };
}

export function createSessionQueries(ctx: AuthContext) {
  const activeSessionsAfter = async (
    userId: string,
    limit: number,
    after: SessionPosition | undefined,
  ): Promise<SessionRecord[]> => {
    const all = await sessionListCache.activeSessions(ctx, userId);
    if (all === null) return sessionsRepository.listActive(ctx.database.db, userId, limit, after);
    // Same order as the SQL keyset: (created_at, id) descending; ISO strings and uuids compare as text.
    const rest = after
      ? all.filter(
          (s) => s.createdAt < after.createdAt || (s.createdAt === after.createdAt && s.id < after.id),
        )
      : all;
    return rest.slice(0, limit);
  };

  return {
    /** The caller's active sessions, newest first; the one of the calling token is marked `current`. */
    async list(
      principal: Principal,
      limit: number,
      cursor: string | undefined,
    ): Promise<{ items: SessionView[]; nextCursor: string | null }> {
      const after = cursor === undefined ? undefined : decodePosition(cursor);
      const rows = await activeSessionsAfter(principal.userId, limit + 1, after);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map(({ userId: _owner, ...session }) => ({
          ...session,
          current: session.id === principal.sessionId,
        })),
        nextCursor: rows.length > limit && last ? encodeCursor({ c: last.createdAt, i: last.id }) : null,
      };
    },
  };
}

export type SessionQueries = ReturnType<typeof createSessionQueries>;
