import type { NotificationsContext } from '../context.js';
import { decodeCursor, encodeCursor } from '../domain/cursor.js';
import type { Preferences } from '../domain/kinds.js';
import { type NotificationView, toNotification } from '../store/notification-mapper.js';
import { notificationRepository } from '../store/notification-repository.js';
import { preferenceRepository } from '../store/preference-repository.js';
import { readMarkerRepository } from '../store/read-marker-repository.js';
import { actorNames } from './actor-names.js';

export function createInboxQueries(ctx: NotificationsContext) {
  const { database, social } = ctx;
  return {
    /** Newest activity first; `nextCursor` continues after the last item. */
    async list(
      userId: string,
      page: { limit: number; cursor?: string | undefined },
    ): Promise<{ items: NotificationView[]; nextCursor: string | null }> {
      const after = page.cursor ? decodeCursor(page.cursor) : undefined;
      const rows = await notificationRepository.page(
        database.db,
        userId,
        page.limit + 1,
        after ? { updatedAt: new Date(after.updatedAt), id: after.id } : undefined,
      );
      const shown = rows.slice(0, page.limit);
      const [readUpTo, names] = await Promise.all([
        readMarkerRepository.get(database.db, userId),
        actorNames(social, shown),
      ]);
      const items = shown.map((row) => toNotification(row, readUpTo, names));
      const last = items.at(-1);
      return {
        items,
        nextCursor:
          rows.length > page.limit && last ? encodeCursor({ updatedAt: last.updatedAt, id: last.id }) : null,
      };
    },

    unreadCount: (userId: string): Promise<number> => notificationRepository.unreadCount(database.db, userId),

    preferences: (userId: string): Promise<Preferences> => preferenceRepository.get(database.db, userId),

    vapidPublicKey: (): string => ctx.vapid.publicKey,
  };
}

export type InboxQueries = ReturnType<typeof createInboxQueries>;
