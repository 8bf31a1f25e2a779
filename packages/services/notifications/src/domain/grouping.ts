import { LATEST_ACTORS, type NotificationKind, type NotifyingAction } from './kinds.js';

/** A group's state: one row per (recipient, kind, target) and window. */
export interface GroupState {
  id: string;
  recipientId: string;
  kind: NotificationKind;
  targetId: string;
  actorCount: number;
  latestActorIds: string[];
  openedAt: Date;
  updatedAt: Date;
}

/** Who and what a stored group already holds, as far as the actions being added ask. */
export interface GroupMembers {
  actors: Set<string>;
  sources: Set<string>;
}

export interface GroupFold {
  /** Every group the actions opened or grew, in its final state (each once). */
  changed: Array<GroupState & { opened: boolean }>;
  /** The actions to store, each with the group it joined. */
  joined: Array<{ notificationId: string; action: NotifyingAction }>;
}

export const groupKeyOf = (a: { recipientId: string; kind: string; targetId: string }): string =>
  `${a.recipientId}|${a.kind}|${a.targetId}`;

/**
 * Adds `actions` of one (recipient, kind, target), in log order, to the
 * newest stored group of that key, as if they arrived one at a time: an
 * action joins the newest group opened within `windowMs` before it or opens
 * a new one; an action whose source the group holds already changes
 * nothing; the count is of distinct actors, the newest actor leads the list.
 * Pure: the caller holds the key's lock and stores the result.
 */
export function foldIntoGroups(
  actions: readonly NotifyingAction[],
  newest: GroupState | undefined,
  membersOf: (groupId: string) => GroupMembers,
  windowMs: number,
  newId: () => string,
): GroupFold {
  const changed = new Map<string, GroupState & { opened: boolean }>();
  const members = new Map<string, GroupMembers>();
  const joined: GroupFold['joined'] = [];
  let current: (GroupState & { opened: boolean }) | undefined = newest && { ...newest, opened: false };
  for (const action of actions) {
    if (!current || current.openedAt.getTime() <= action.actedAt.getTime() - windowMs) {
      current = {
        id: newId(),
        recipientId: action.recipientId,
        kind: action.kind,
        targetId: action.targetId,
        actorCount: 0,
        latestActorIds: [],
        openedAt: action.actedAt,
        updatedAt: action.actedAt,
        opened: true,
      };
      members.set(current.id, { actors: new Set(), sources: new Set() });
    }
    let known = members.get(current.id);
    if (!known) {
      const stored = membersOf(current.id);
      known = { actors: new Set(stored.actors), sources: new Set(stored.sources) };
      members.set(current.id, known);
    }
    if (known.sources.has(action.sourceId)) continue;
    known.sources.add(action.sourceId);
    if (!known.actors.has(action.actorId)) {
      known.actors.add(action.actorId);
      current.actorCount += 1;
    }
    current.latestActorIds = [
      action.actorId,
      ...current.latestActorIds.filter((id) => id !== action.actorId),
    ].slice(0, LATEST_ACTORS);
    if (action.actedAt > current.updatedAt) current.updatedAt = action.actedAt;
    changed.set(current.id, current);
    joined.push({ notificationId: current.id, action });
  }
  return { changed: [...changed.values()], joined };
}
