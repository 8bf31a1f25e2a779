import { randomUUID } from 'node:crypto';
import { ForbiddenError, inTransaction, NotFoundError } from '@nova/kernel';
import type { LiveContext } from '../context.js';
import { hashStreamKey, newStreamKey } from '../domain/stream-key.js';
import { liveEvent } from '../events.js';
import { banRepository } from '../store/ban-repository.js';
import { type StreamRow, streamRepository } from '../store/stream-repository.js';
import { announceEnd } from './ingest-control.js';

export interface CreatedStream {
  id: string;
  streamKey: string;
  ingestUrl: string;
}

export const streamNotFound = () => new NotFoundError('stream_not_found', 'No such stream.');
const notOwner = () => new ForbiddenError('not_stream_owner', 'Only the owner of the stream may do this.');

/** Where a publisher sends RTMP: the key goes after it as the stream name. */
export function ingestUrl(ctx: LiveContext, port: number): string {
  return `rtmp://${ctx.settings.publicHost}:${port}/live`;
}

/** The owner's row, or the error a caller gets: 404 for no stream, 403 for someone else's (streams are public). */
async function ownStream(ctx: LiveContext, id: string, userId: string): Promise<StreamRow> {
  const stream = await streamRepository.byId(ctx.database.db, id);
  if (!stream) throw streamNotFound();
  if (stream.owner_id !== userId) throw notOwner();
  return stream;
}

export function createStreamCommands(ctx: LiveContext, rtmpPort: () => number) {
  return {
    /** 404 for no stream, 403 for someone else's. */
    async assertOwner(id: string, userId: string): Promise<void> {
      await ownStream(ctx, id, userId);
    },

    async create(ownerId: string, input: { title?: string }): Promise<CreatedStream> {
      const streamKey = newStreamKey();
      const title = input.title?.trim() || null;
      const row = await streamRepository.insert(ctx.database.db, {
        id: randomUUID(),
        ownerId,
        title,
        keyHash: hashStreamKey(streamKey),
      });
      return { id: row.id, streamKey, ingestUrl: ingestUrl(ctx, rtmpPort()) };
    },

    /**
     * A new key for a stream that has not ended; the old one stops working
     * for new publishes at once (a publish under way goes on).
     */
    async rotateKey(id: string, userId: string): Promise<CreatedStream> {
      await ownStream(ctx, id, userId);
      const streamKey = newStreamKey();
      const row = await streamRepository.replaceKey(ctx.database.db, id, userId, hashStreamKey(streamKey));
      if (!row) throw new ForbiddenError('stream_ended', 'The stream has ended; create a new one.');
      return { id, streamKey, ingestUrl: ingestUrl(ctx, rtmpPort()) };
    },

    /** Ends the stream (idempotent for its owner) and disconnects its publisher wherever it is. */
    async end(id: string, userId: string): Promise<void> {
      await ownStream(ctx, id, userId);
      const ended = await inTransaction(ctx.database, async (tx) => {
        const row = await streamRepository.end(tx, id, 'ended_by_owner');
        if (row) await ctx.outbox.write(tx, [liveEvent.ended(row, 'ended_by_owner')]);
        return row;
      });
      if (ended) await announceEnd(ctx, id);
    },

    /** The owner bans a user from the stream's chat (idempotent). */
    async banFromChat(id: string, ownerId: string, userId: string): Promise<boolean> {
      await ownStream(ctx, id, ownerId);
      if (userId === ownerId) throw new ForbiddenError('cannot_ban_owner', 'The owner cannot be banned.');
      return banRepository.ban(ctx.database.db, id, userId);
    },
  };
}

export type StreamCommands = ReturnType<typeof createStreamCommands>;
