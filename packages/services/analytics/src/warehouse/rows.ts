import type { AcceptedClientEventTuple } from '@nova/contracts';
import { dateTimeText } from './sql-literals.js';

/** A client_events row (JSONEachRow). */
export interface ClientEventRow {
  event_id: string;
  type: string;
  user_id: string;
  post_id: string;
  target: string;
  dwell_ms: number;
  client_ts: string;
  server_ts: string;
}

export type EngagementKind = 'post' | 'like' | 'comment' | 'follow';
export const ENGAGEMENT_KINDS: readonly EngagementKind[] = ['post', 'like', 'comment', 'follow'];

/** An engagements row: the latest state of one post, like, comment or follow. */
export interface EngagementRow {
  kind: EngagementKind;
  /** The post (post, like, comment) or the followed account (follow). */
  subject_id: string;
  /** Whose insights it counts for: the post's author, or the followed account. */
  owner_id: string;
  actor_id: string;
  /** Unique per kind: post id, comment id, `postId:userId`, `followerId:followeeId`. */
  entity_id: string;
  created_at: string;
  deleted: 0 | 1;
  version: number;
}

/** `serverTs`: the request's receivedAt as dateTimeText, made once for all its events. */
export function clientEventRow(
  userId: string,
  serverTs: string,
  [id, type, postId, target, ms, clientTs]: AcceptedClientEventTuple,
): ClientEventRow {
  return {
    event_id: id,
    type,
    user_id: userId,
    post_id: postId ?? '',
    target: target ?? '',
    dwell_ms: ms ?? 0,
    client_ts: dateTimeText(clientTs),
    server_ts: serverTs,
  };
}

/**
 * Orders the states of one entity: later facts win, and at the same
 * millisecond a removal wins over a creation.
 */
export function versionOf(at: string | number | Date, deleted: boolean): number {
  return new Date(at).getTime() * 2 + (deleted ? 1 : 0);
}

export function engagementRow(
  fields: Omit<EngagementRow, 'created_at' | 'deleted' | 'version'>,
  createdAt: string | Date,
  deleted: boolean,
  factAt: string | Date = createdAt,
): EngagementRow {
  return {
    ...fields,
    created_at: dateTimeText(createdAt),
    deleted: deleted ? 1 : 0,
    version: versionOf(factAt, deleted),
  };
}
