import type {
  ClientEventsAcceptedEvent,
  CommentCreatedEvent,
  CommentDeletedEvent,
  LikeEdgeEvent,
  PostCreatedEvent,
  PostDeletedEvent,
} from '@nova/contracts';
import type { EventRecord } from '@nova/kernel';
import { type ClientEventRow, clientEventRow, type EngagementRow, engagementRow } from '../warehouse/rows.js';

/** What one batch of log records becomes in the analytics store. */
export interface SinkWrites {
  clientEvents: ClientEventRow[];
  engagements: EngagementRow[];
  deletedUsers: string[];
}

interface FollowEdge {
  followerId: string;
  followeeId: string;
}

/**
 * Maps the log's records to rows. Pure: the sink writes what this returns.
 * Event types not listed here are not subscribed or are ignored by the sink.
 */
export function mapRecords(records: readonly EventRecord[]): SinkWrites {
  const writes: SinkWrites = { clientEvents: [], engagements: [], deletedUsers: [] };
  for (const record of records) {
    const at = record.timestamp;
    switch (record.type) {
      case 'client_events.accepted': {
        const { userId, receivedAt, events } = record.payload as ClientEventsAcceptedEvent;
        for (const event of events) writes.clientEvents.push(clientEventRow(userId, receivedAt, event));
        break;
      }
      case 'post.created': {
        const p = record.payload as PostCreatedEvent;
        writes.engagements.push(
          engagementRow(
            {
              kind: 'post',
              subject_id: p.postId,
              owner_id: p.authorId,
              actor_id: p.authorId,
              entity_id: p.postId,
            },
            p.createdAt,
            false,
          ),
        );
        break;
      }
      case 'post.deleted': {
        const p = record.payload as PostDeletedEvent;
        writes.engagements.push(
          engagementRow(
            {
              kind: 'post',
              subject_id: p.postId,
              owner_id: p.authorId,
              actor_id: p.authorId,
              entity_id: p.postId,
            },
            p.deletedAt,
            true,
          ),
        );
        break;
      }
      case 'comment.created': {
        const c = record.payload as CommentCreatedEvent;
        writes.engagements.push(
          engagementRow(
            {
              kind: 'comment',
              subject_id: c.postId,
              owner_id: c.postAuthorId,
              actor_id: c.authorId,
              entity_id: c.commentId,
            },
            c.createdAt,
            false,
          ),
        );
        break;
      }
      case 'comment.deleted': {
        const c = record.payload as CommentDeletedEvent;
        writes.engagements.push(
          engagementRow(
            {
              kind: 'comment',
              subject_id: c.postId,
              owner_id: '',
              actor_id: c.authorId,
              entity_id: c.commentId,
            },
            at,
            true,
          ),
        );
        break;
      }
      case 'like.created':
      case 'like.removed': {
        const l = record.payload as LikeEdgeEvent;
        writes.engagements.push(
          engagementRow(
            {
              kind: 'like',
              subject_id: l.postId,
              owner_id: l.postAuthorId,
              actor_id: l.userId,
              entity_id: `${l.postId}:${l.userId}`,
            },
            at,
            record.type === 'like.removed',
          ),
        );
        break;
      }
      case 'follow.created':
      case 'follow.removed': {
        const f = record.payload as FollowEdge;
        writes.engagements.push(
          engagementRow(
            {
              kind: 'follow',
              subject_id: f.followeeId,
              owner_id: f.followeeId,
              actor_id: f.followerId,
              entity_id: `${f.followerId}:${f.followeeId}`,
            },
            at,
            record.type === 'follow.removed',
          ),
        );
        break;
      }
      case 'user.deleted':
        writes.deletedUsers.push((record.payload as { userId: string }).userId);
        break;
    }
  }
  return writes;
}

/** The types the sink acts on; every other type of its topics passes without effects. */
export const SINK_TYPES = new Set([
  'client_events.accepted',
  'post.created',
  'post.deleted',
  'comment.created',
  'comment.deleted',
  'like.created',
  'like.removed',
  'follow.created',
  'follow.removed',
  'user.deleted',
]);
