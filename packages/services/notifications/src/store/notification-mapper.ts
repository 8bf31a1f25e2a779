import { toIso } from '@nova/kernel';
import type { GroupState } from '../domain/grouping.js';
import { isNotificationKind, type NotificationKind, targetTypeOf } from '../domain/kinds.js';
import type { NotificationRow } from './notification-repository.js';

/** A named account as a notification shows it; names are null when social does not know the id. */
export interface ActorView {
  id: string;
  username: string | null;
  displayName: string | null;
  avatarMediaId: string | null;
}

export interface NotificationView {
  id: string;
  type: NotificationKind;
  target: { type: 'user' | 'post' | 'conversation'; id: string };
  actors: ActorView[];
  actorCount: number;
  read: boolean;
  createdAt: string;
  updatedAt: string;
}

export type ActorNames = ReadonlyMap<string, Omit<ActorView, 'id'>>;

export function toNotification(
  row: NotificationRow,
  readUpTo: Date | undefined,
  names: ActorNames,
): NotificationView {
  const kind = kindOf(row.kind);
  return {
    id: row.id,
    type: kind,
    target: { type: targetTypeOf(kind), id: row.target_id },
    actors: row.latest_actor_ids.map((id) => ({
      id,
      ...(names.get(id) ?? { username: null, displayName: null, avatarMediaId: null }),
    })),
    actorCount: row.actor_count,
    read: readUpTo !== undefined && row.updated_at <= readUpTo,
    createdAt: toIso(row.opened_at),
    updatedAt: toIso(row.updated_at),
  };
}

/**
 * What a Web Push carries: ids and counts, never content (a message push
 * says only that a message arrived in a conversation). The client's service
 * worker shows it, or fetches the list for names.
 */
export function toPushPayload(group: GroupState): Record<string, unknown> {
  return {
    id: group.id,
    type: group.kind,
    target: { type: targetTypeOf(group.kind), id: group.targetId },
    actorIds: group.latestActorIds,
    actorCount: group.actorCount,
    updatedAt: toIso(group.updatedAt),
  };
}

function kindOf(kind: string): NotificationKind {
  if (!isNotificationKind(kind)) throw new Error(`unknown notification kind "${kind}" in the store`);
  return kind;
}
