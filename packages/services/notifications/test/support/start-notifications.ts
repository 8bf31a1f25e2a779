import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  AUTH_USER_AGGREGATE,
  CONTENT_COMMENT_AGGREGATE,
  CONTENT_LIKE_AGGREGATE,
  CONTENT_MENTION_AGGREGATE,
  CONTENT_POST_AGGREGATE,
  MESSAGING_MESSAGE_AGGREGATE,
  NOVA_CONTRACTS,
  SOCIAL_BLOCK_AGGREGATE,
  SOCIAL_FOLLOW_AGGREGATE,
  SOCIAL_MUTE_AGGREGATE,
} from '@nova/contracts';
import { type Database, type OutboxEvent, runMigrations } from '@nova/kernel';
import type { AnyApi } from '@nova/kernel/boot';
import {
  type DatabaseKind,
  eventsPassed,
  type StartedModules,
  startModules,
  tokenStandIn,
} from '@nova/kernel/testing';
import { notificationsModule } from '../../src/index.js';
import type { NotificationsTables } from '../../src/store/tables.js';

/** Social's sync API standing in for social (not started here): every account is named `user-<id>`. */
export class SocialStandIn {
  readonly api = {
    getProfiles: async ({ ids }: { ids: string[] }) => ({
      profiles: ids.map((id) => ({
        id,
        username: `user-${id}`,
        displayName: null,
        bio: null,
        avatarMediaId: null,
        isPrivate: false,
        followerCount: 0,
        followingCount: 0,
        postCount: 0,
        createdAt: new Date(0).toISOString(),
      })),
    }),
  } as unknown as AnyApi;
}

export interface NotificationsUnderTest {
  nova: StartedModules;
  social: SocialStandIn;
  database: Database<NotificationsTables>;
  /** Writes events to a producer's outbox (auth, social or content) in one transaction, as it would. */
  publish(
    producer: 'auth' | 'social' | 'content' | 'messaging',
    events: readonly OutboxEvent[],
  ): Promise<void>;
  /** Resolves once the group has processed `count` events in total. */
  processed(group: string, count: number): Promise<void>;
  close(): Promise<void>;
}

/** Notifications as `nova start --target=notifications` boots it, with auth and social standing in. */
export async function startNotifications(
  database: DatabaseKind,
  env: Record<string, string> = {},
): Promise<NotificationsUnderTest> {
  const social = new SocialStandIn();
  const nova = await startModules({
    modules: [notificationsModule],
    contracts: NOVA_CONTRACTS,
    database,
    provided: { auth: tokenStandIn as unknown as AnyApi, social: social.api },
    env: { WEB_PUSH_INSECURE_ENDPOINTS: 'true', ...env },
  });
  const emptyDir = await mkdtemp(path.join(os.tmpdir(), 'nova-producer-'));
  const producers = new Map<string, Database<unknown>>();
  for (const name of ['auth', 'social', 'content', 'messaging']) {
    const producer = await nova.kernel.databases.open(name);
    // Only the producer's outbox (a kernel table) matters: it is the log.
    await runMigrations(producer, emptyDir, nova.kernel.logger);
    producers.set(name, producer);
  }
  const own = await nova.kernel.databases.open<NotificationsTables>('notifications');
  return {
    nova,
    social,
    database: own,
    async publish(producer, events) {
      const db = producers.get(producer);
      if (!db) throw new Error(`no producer ${producer}`);
      await db.transaction((tx) => nova.kernel.outbox.write(tx, events));
    },
    async processed(group, count) {
      // Events the group's checkpoint passed: batch consumers keep no processed-event row per event (ADR 039).
      const passed = async () => {
        let n = 0;
        for (const producer of producers.values()) n += await eventsPassed(own, producer, group);
        return n;
      };
      const deadline = Date.now() + 20_000;
      for (;;) {
        const n = await passed();
        if (n >= count) return;
        if (Date.now() > deadline) throw new Error(`${group} passed ${n} of ${count} events`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () => nova.close(),
  };
}

/** Event constructors shaped as the producers write them. */
export const events = {
  like: (
    type: 'like.created' | 'like.removed',
    postId: string,
    postAuthorId: string,
    userId: string,
  ): OutboxEvent => ({
    aggregateType: CONTENT_LIKE_AGGREGATE,
    aggregateId: postId,
    type,
    payload: { postId, postAuthorId, userId },
  }),
  comment: (commentId: string, postId: string, postAuthorId: string, authorId: string): OutboxEvent => ({
    aggregateType: CONTENT_COMMENT_AGGREGATE,
    aggregateId: postId,
    type: 'comment.created',
    payload: {
      commentId,
      postId,
      postAuthorId,
      authorId,
      parentId: null,
      createdAt: new Date().toISOString(),
    },
  }),
  commentDeleted: (commentId: string, postId: string, authorId: string): OutboxEvent => ({
    aggregateType: CONTENT_COMMENT_AGGREGATE,
    aggregateId: postId,
    type: 'comment.deleted',
    payload: { commentId, postId, authorId },
  }),
  mention: (postId: string, authorId: string, mentionedUserId: string): OutboxEvent => ({
    aggregateType: CONTENT_MENTION_AGGREGATE,
    aggregateId: mentionedUserId,
    type: 'mention.created',
    payload: { postId, authorId, mentionedUserId },
  }),
  postDeleted: (postId: string, authorId: string): OutboxEvent => ({
    aggregateType: CONTENT_POST_AGGREGATE,
    aggregateId: authorId,
    type: 'post.deleted',
    payload: { postId, authorId, deletedAt: new Date().toISOString() },
  }),
  follow: (
    type: 'follow.created' | 'follow.removed' | 'follow.requested',
    followerId: string,
    followeeId: string,
  ): OutboxEvent => ({
    aggregateType: SOCIAL_FOLLOW_AGGREGATE,
    aggregateId: followerId,
    type,
    payload: { followerId, followeeId },
  }),
  block: (blockerId: string, blockedId: string): OutboxEvent => ({
    aggregateType: SOCIAL_BLOCK_AGGREGATE,
    aggregateId: blockerId,
    type: 'block.created',
    payload: { blockerId, blockedId },
  }),
  unblock: (blockerId: string, blockedId: string): OutboxEvent => ({
    aggregateType: SOCIAL_BLOCK_AGGREGATE,
    aggregateId: blockerId,
    type: 'block.removed',
    payload: { blockerId, blockedId },
  }),
  mute: (muterId: string, mutedId: string): OutboxEvent => ({
    aggregateType: SOCIAL_MUTE_AGGREGATE,
    aggregateId: muterId,
    type: 'mute.created',
    payload: { muterId, mutedId },
  }),
  message: (conversationId: string, senderId: string, recipientIds: string[], seq: number): OutboxEvent => ({
    aggregateType: MESSAGING_MESSAGE_AGGREGATE,
    aggregateId: conversationId,
    type: 'message.sent',
    payload: {
      messageId: randomUUID(),
      conversationId,
      conversationKind: recipientIds.length > 1 ? 'group' : 'direct',
      seq,
      senderId,
      senderDeviceId: 'phone',
      recipientIds,
      sentAt: new Date().toISOString(),
    },
  }),
  userDeleted: (userId: string): OutboxEvent => ({
    aggregateType: AUTH_USER_AGGREGATE,
    aggregateId: userId,
    type: 'user.deleted',
    payload: { userId, deletedAt: new Date().toISOString() },
  }),
};
