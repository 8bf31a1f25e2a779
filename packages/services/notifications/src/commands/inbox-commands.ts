import { inTransaction, isUuid, NotFoundError, ValidationError } from '@nova/kernel';
import type { NotificationsContext } from '../context.js';
import type { Preferences } from '../domain/kinds.js';
import {
  checkSubscription,
  endpointRefused,
  type PushSubscriptionInput,
} from '../domain/push-subscription.js';
import { isPublicAddress } from '../push/public-address.js';
import { notificationRepository } from '../store/notification-repository.js';
import { preferenceRepository } from '../store/preference-repository.js';
import { readMarkerRepository } from '../store/read-marker-repository.js';
import { subscriptionRepository } from '../store/subscription-repository.js';

/** What an account does to its own notifications: read them, switch kinds, register browsers. */
export function createInboxCommands(ctx: NotificationsContext) {
  const { database, settings, resolveHost } = ctx;
  return {
    /**
     * Marks read everything up to `upTo` — the id of a notification of the
     * caller (up to its newest action) or an ISO time — or everything now.
     */
    async markRead(userId: string, upTo?: string): Promise<void> {
      const point = await readPoint(userId, upTo);
      await readMarkerRepository.advance(database.db, userId, point);
    },

    async setPreferences(userId: string, preferences: Preferences): Promise<Preferences> {
      await preferenceRepository.put(database.db, userId, preferences);
      return preferences;
    },

    /** 201 when the endpoint is new, else it moves to the caller with the given keys. */
    async subscribe(userId: string, input: PushSubscriptionInput): Promise<{ created: boolean }> {
      const url = checkSubscription(input, settings.push.insecureEndpoints);
      if (!settings.push.insecureEndpoints) await assertPublicHost(url);
      return inTransaction(database, (tx) =>
        subscriptionRepository.upsert(tx, userId, {
          endpoint: input.endpoint,
          p256dh: input.keys.p256dh,
          auth: input.keys.auth,
        }),
      );
    },

    /** Idempotent: an endpoint the caller does not have is already gone. */
    async unsubscribe(userId: string, endpoint: string): Promise<void> {
      await subscriptionRepository.remove(database.db, userId, endpoint);
    },
  };

  async function readPoint(userId: string, upTo: string | undefined): Promise<Date> {
    if (upTo === undefined) return new Date();
    if (isUuid(upTo)) {
      const row = await notificationRepository.findOwned(database.db, userId, upTo);
      if (!row) throw new NotFoundError('notification_not_found', 'You have no notification with this id.');
      return row.updated_at;
    }
    const time = Date.parse(upTo);
    if (Number.isNaN(time) || !/^\d{4}-\d{2}-\d{2}T/.test(upTo))
      throw new ValidationError(
        'upTo is neither a notification id nor an ISO 8601 time.',
        [{ field: '/upTo', message: 'a notification id or an ISO 8601 time' }],
        'invalid_read_point',
      );
    return new Date(time);
  }

  async function assertPublicHost(url: URL): Promise<void> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    try {
      addresses = await resolveHost(host);
    } catch {
      throw endpointRefused('its host does not resolve');
    }
    if (addresses.length === 0 || !addresses.every(isPublicAddress))
      throw endpointRefused('must be on a public address');
  }
}

export type InboxCommands = ReturnType<typeof createInboxCommands>;
