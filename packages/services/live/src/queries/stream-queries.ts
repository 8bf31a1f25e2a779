import {
  BlobNotFoundError,
  decodeCursor,
  encodeCursor,
  NotFoundError,
  toIso,
  toIsoOrNull,
} from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ViewerRegistry } from '../chat/viewer-registry.js';
import { ingestUrl, streamNotFound } from '../commands/stream-commands.js';
import type { LiveContext } from '../context.js';
import { hlsCacheControl, hlsContentType, hlsKey, isHlsFile, PLAYLIST } from '../domain/hls-files.js';
import { type StreamRow, streamRepository } from '../store/stream-repository.js';

export interface StreamView {
  id: string;
  ownerId: string;
  title: string | null;
  state: 'created' | 'live' | 'ended';
  viewerCount: number;
  /** HLS playlist, while live. */
  playbackUrl: string | null;
  /** The owner's only: where to publish (the key itself is shown at creation and rotation only). */
  ingestUrl?: string;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
}

/** Live streams scanned for one list page (ordered in memory: followed accounts first). */
const LIVE_SCAN_LIMIT = 5000;

export function playbackUrl(ctx: LiveContext, streamId: string): string {
  return `${ctx.publicApiUrl}/streams/${streamId}/hls/${PLAYLIST}`;
}

interface LiveCursor {
  followed: boolean;
  startedAt: string;
  id: string;
}

const LiveCursorSchema = Type.Object({
  followed: Type.Boolean(),
  startedAt: Type.String(),
  id: Type.String(),
});

/** Followed first, then newest first, then id: a total order the cursor can resume from. */
function compare(a: LiveCursor, b: LiveCursor): number {
  if (a.followed !== b.followed) return a.followed ? -1 : 1;
  if (a.startedAt !== b.startedAt) return a.startedAt < b.startedAt ? 1 : -1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function createStreamQueries(ctx: LiveContext, viewers: ViewerRegistry, rtmpPort: () => number) {
  const view = async (row: StreamRow, callerId: string | undefined): Promise<StreamView> => ({
    id: row.id,
    ownerId: row.owner_id,
    title: row.title,
    state: row.state,
    viewerCount: row.state === 'ended' ? 0 : await viewers.count(row.id),
    playbackUrl: row.state === 'live' ? playbackUrl(ctx, row.id) : null,
    ...(callerId === row.owner_id ? { ingestUrl: ingestUrl(ctx, rtmpPort()) } : {}),
    createdAt: toIso(row.created_at),
    startedAt: toIsoOrNull(row.started_at),
    endedAt: toIsoOrNull(row.ended_at),
  });

  return {
    async get(id: string, callerId: string): Promise<StreamView> {
      const row = await streamRepository.byId(ctx.database.db, id);
      if (!row) throw streamNotFound();
      if (row.owner_id !== callerId) {
        const { relationships } = await ctx.social.relationships({ viewerId: callerId, ids: [row.owner_id] });
        if (relationships[0]?.blocking || relationships[0]?.blockedBy) throw streamNotFound();
      }
      return view(row, callerId);
    },

    /** Live streams, accounts the caller follows first, never of an account blocked either way. */
    async live(callerId: string, limit: number, cursor?: string | null) {
      const after = cursor ? decodeCursor<LiveCursor>(cursor, LiveCursorSchema) : undefined;
      const rows = await streamRepository.live(ctx.database.db, LIVE_SCAN_LIMIT);
      const owners = [...new Set(rows.map((r) => r.owner_id).filter((id) => id !== callerId))];
      const relation = new Map<string, { following: boolean; hidden: boolean }>();
      for (let i = 0; i < owners.length; i += 1000) {
        const { relationships } = await ctx.social.relationships({
          viewerId: callerId,
          ids: owners.slice(i, i + 1000),
        });
        for (const r of relationships)
          relation.set(r.userId, { following: r.following, hidden: r.blocking || r.blockedBy });
      }
      const ordered = rows
        .filter((r) => !relation.get(r.owner_id)?.hidden)
        .map((row) => ({
          row,
          key: {
            followed: relation.get(row.owner_id)?.following ?? false,
            startedAt: toIso(row.started_at ?? row.created_at),
            id: row.id,
          },
        }))
        .sort((a, b) => compare(a.key, b.key))
        .filter((entry) => !after || compare(entry.key, after) > 0);
      const page = ordered.slice(0, limit);
      const last = page.at(-1);
      return {
        items: await Promise.all(page.map((entry) => view(entry.row, callerId))),
        nextCursor: ordered.length > limit && last ? encodeCursor(last.key) : null,
      };
    },

    /** A playlist or segment from the blob store, with its content type and caching. */
    async serveHls(
      id: string,
      file: string,
      reply: FastifyReply,
      request: FastifyRequest,
    ): Promise<FastifyReply> {
      const notFound = new NotFoundError('hls_not_found', 'No such playlist or segment.');
      if (!isHlsFile(file)) throw notFound;
      try {
        const object = await ctx.blobs.get(hlsKey(id, file));
        reply.header('cache-control', hlsCacheControl(file)).header('etag', object.info.etag);
        if (request.headers['if-none-match'] === object.info.etag) {
          object.body.destroy();
          return reply.code(304).send();
        }
        return reply
          .type(hlsContentType(file))
          .header('content-length', String(object.info.size))
          .send(object.body);
      } catch (error) {
        if (error instanceof BlobNotFoundError) throw notFound;
        throw error;
      }
    },
  };
}

export type StreamQueries = ReturnType<typeof createStreamQueries>;
