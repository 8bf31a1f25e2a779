import type {
  ClientEventsAcceptedEvent,
  ClientEventsBatchEvent,
  CommentCreatedEvent,
  CommentDeletedEvent,
  LikeEdgeEvent,
  PostCreatedEvent,
  PostDeletedEvent,
} from '@nova/contracts';
import type { EventRecord } from '@nova/kernel';
import { type ClientEventRow, clientEventRow, type EngagementRow, engagementRow } from '../warehouse/rows.js';
import { dateTimeText } from '../warehouse/sql-literals.js';

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

/** An engagement fact: which entity, when, and whether it now exists. */
interface Fact {
  row: Omit<EngagementRow, 'created_at' | 'deleted' | 'version'>;
  at: string;
  deleted: boolean;
}

const post = (p: PostCreatedEvent | PostDeletedEvent) => ({
  kind: 'post' as const,
  subject_id: p.postId,
  owner_id: p.authorId,
  actor_id: p.authorId,
  entity_id: p.postId,
});
const like = (l: LikeEdgeEvent) => ({
  kind: 'like' as const,
  subject_id: l.postId,
  owner_id: l.postAuthorId,
  actor_id: l.userId,
  entity_id: `${l.postId}:${l.userId}`,
});
const follow = (f: FollowEdge) => ({
  kind: 'follow' as const,
  subject_id: f.followeeId,
  owner_id: f.followeeId,
  actor_id: f.followerId,
  entity_id: `${f.followerId}:${f.followeeId}`,
});

/**
 * The engagement each domain event type states. Likes and follows carry no
 * time of their own: the log timestamp (their producing transaction) is it.
 * A deleted comment's post author is not in its event; the row is dead anyway.
 */
const FACTS: Record<string, (payload: never, logTime: string) => Fact> = {
  'post.created': (p: PostCreatedEvent) => ({ row: post(p), at: p.createdAt, deleted: false }),
  'post.deleted': (p: PostDeletedEvent) => ({ row: post(p), at: p.deletedAt, deleted: true }),
  'comment.created': (c: CommentCreatedEvent) => ({
    row: {
      kind: 'comment',
      subject_id: c.postId,
      owner_id: c.postAuthorId,
      actor_id: c.authorId,
      entity_id: c.commentId,
    },
    at: c.createdAt,
    deleted: false,
  }),
  'comment.deleted': (c: CommentDeletedEvent, logTime) => ({
    row: {
      kind: 'comment',
      subject_id: c.postId,
      owner_id: '',
      actor_id: c.authorId,
      entity_id: c.commentId,
    },
    at: logTime,
    deleted: true,
  }),
  'like.created': (l: LikeEdgeEvent, logTime) => ({ row: like(l), at: logTime, deleted: false }),
  'like.removed': (l: LikeEdgeEvent, logTime) => ({ row: like(l), at: logTime, deleted: true }),
  'follow.created': (f: FollowEdge, logTime) => ({ row: follow(f), at: logTime, deleted: false }),
  'follow.removed': (f: FollowEdge, logTime) => ({ row: follow(f), at: logTime, deleted: true }),
};

/**
 * Maps the log's records to rows. Pure: the sink writes what this returns.
 * Event types not listed here are not subscribed or are ignored by the sink.
 */
export function mapRecords(records: readonly EventRecord[]): SinkWrites {
  const writes: SinkWrites = { clientEvents: [], engagements: [], deletedUsers: [] };
  for (const record of records) {
    const fact = FACTS[record.type];
    if (fact) {
      const { row, at, deleted } = fact(record.payload as never, record.timestamp);
      writes.engagements.push(engagementRow(row, at, deleted));
    } else if (record.type === 'client_events.batch') {
      const { userId, receivedAt, events } = record.payload as ClientEventsBatchEvent;
      const serverTs = dateTimeText(receivedAt);
      for (const event of events) writes.clientEvents.push(clientEventRow(userId, serverTs, event));
    } else if (record.type === 'client_events.accepted') {
      // The shape before ADR 041, still in logs written by an older ingest.
      const { userId, receivedAt, events } = record.payload as ClientEventsAcceptedEvent;
      const serverTs = dateTimeText(receivedAt);
      for (const e of events)
        writes.clientEvents.push(
          clientEventRow(userId, serverTs, [e.id, e.type, e.postId, e.target, e.ms, e.clientTs]),
        );
    } else if (record.type === 'user.deleted') {
      writes.deletedUsers.push((record.payload as { userId: string }).userId);
    }
  }
  return writes;
}

/** The types the sink acts on; every other type of its topics passes without effects. */
export const SINK_TYPES = new Set([
  ...Object.keys(FACTS),
  'client_events.batch',
  'client_events.accepted',
  'user.deleted',
]);
