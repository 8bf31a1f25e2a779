import {
  ANALYTICS_CLIENT_EVENTS_TOPIC,
  AUTH_USER_TOPIC,
  CONTENT_COMMENT_TOPIC,
  CONTENT_LIKE_TOPIC,
  CONTENT_POST_TOPIC,
  SOCIAL_FOLLOW_TOPIC,
} from '@nova/contracts';
import type { Worker } from '@nova/kernel';
import type { AnalyticsContext } from '../context.js';
import type { AnalyticsWriter } from '../warehouse/analytics-writer.js';
import { mapRecords, SINK_TYPES } from './sink-mapping.js';

export const ANALYTICS_SINK_GROUP = 'analytics.sink';

export const SINK_TOPICS = [
  ANALYTICS_CLIENT_EVENTS_TOPIC,
  CONTENT_POST_TOPIC,
  CONTENT_COMMENT_TOPIC,
  CONTENT_LIKE_TOPIC,
  SOCIAL_FOLLOW_TOPIC,
  AUTH_USER_TOPIC,
].map((contract) => contract.topic);

/**
 * The single analytics sink: client events and the domain events of posts,
 * likes, comments, follows and accounts, batch by batch into ClickHouse
 * (ADR 012/019 batch consumer). The store is outside the consumer's
 * transaction, so a batch can be written and then redelivered (crash before
 * the checkpoint): every write is keyed by event or entity id and the
 * rollups count distinct ids, so redelivery counts once. A store that fails
 * makes the batch retry, then dead-letter by bisection like any other.
 */
export function createAnalyticsSink(ctx: AnalyticsContext, writer: AnalyticsWriter): Worker {
  return ctx.eventLog.consumer({
    group: ANALYTICS_SINK_GROUP,
    topics: SINK_TOPICS,
    database: ctx.database,
    ignores: (type) => !SINK_TYPES.has(type),
    batch: { maxEvents: 500, maxWaitMs: 50 },
    async handleBatch(records, { log }) {
      const writes = mapRecords(records);
      await Promise.all([
        writer.writeClientEvents(writes.clientEvents),
        writer.writeEngagements(writes.engagements),
      ]);
      // After this batch's rows: an account's events that came before its deletion go too.
      for (const userId of writes.deletedUsers) {
        const { posts } = await writer.deleteUser(userId);
        log.info({ userId, posts }, 'account removed from the analytics store');
      }
    },
  });
}
