import { AUTH_USER_TOPIC } from '@nova/contracts';
import { typedConsumer, type Worker } from '@nova/kernel';
import type { LiveContext } from '../context.js';
import { hlsPrefix } from '../domain/hls-files.js';
import { liveEvent } from '../events.js';
import { banRepository } from '../store/ban-repository.js';
import { streamRepository } from '../store/stream-repository.js';

export const USER_EVENTS_GROUP = 'live.users';

/**
 * A deleted account's streams end (stream.ended, reason account_deleted)
 * and go, with their recordings; its bans in other streams go too. The
 * recordings are removed before the transaction commits, so a failure
 * retries the whole event; removing twice is harmless. A publisher still
 * connected is cut by its process's next lease renewal (the row is gone).
 */
export function createUserEventsConsumer(ctx: LiveContext): Worker {
  return ctx.eventLog.consumer(
    typedConsumer({
      group: USER_EVENTS_GROUP,
      topics: [AUTH_USER_TOPIC],
      database: ctx.database,
      handlers: {
        async 'user.deleted'({ payload }, { tx, log }) {
          const streams = await streamRepository.ofOwner(tx, payload.userId);
          const ended = [];
          for (const stream of streams) {
            const row = await streamRepository.end(tx, stream.id, 'account_deleted');
            if (row) ended.push(liveEvent.ended(row, 'account_deleted'));
          }
          if (ended.length > 0) await ctx.outbox.write(tx, ended);
          for (const stream of streams) await ctx.blobs.deletePrefix(hlsPrefix(stream.id));
          const removed = await streamRepository.deleteOfOwner(tx, payload.userId);
          const bans = await banRepository.purgeUser(tx, payload.userId);
          log.info(
            { userId: payload.userId, streams: removed, ended: ended.length, bans },
            'user purged from live',
          );
        },
      },
      ignore: ['user.registered', 'user.email_verified', 'user.password_changed'],
    }),
  );
}
