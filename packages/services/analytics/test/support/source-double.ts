import type { DayActivityItem, DayActivityPage } from '@nova/contracts';
import type { ActivitySources } from '../../src/commands/reconcile-day.js';
import type { EngagementKind } from '../../src/warehouse/rows.js';

/**
 * Content's and social's `dayActivity` as a test sets their state: items per
 * kind, paged in entity order like the real queries (their own suites test
 * those against the databases).
 */
export interface SourceDouble extends ActivitySources {
  add(kind: EngagementKind, item: DayActivityItem): void;
  remove(kind: EngagementKind, entityId: string): void;
  calls: number;
}

export function createSourceDouble(): SourceDouble {
  const held = new Map<EngagementKind, Map<string, DayActivityItem>>();
  const page = (
    kind: EngagementKind,
    day: string,
    after: string | null | undefined,
    limit = 500,
  ): DayActivityPage => {
    const all = [...(held.get(kind)?.values() ?? [])]
      .filter((item) => item.createdAt.slice(0, 10) === day)
      .sort((a, b) => (a.entityId < b.entityId ? -1 : 1));
    const rest = after ? all.filter((item) => item.entityId > after) : all;
    const items = rest.slice(0, limit);
    return {
      total: all.length,
      items,
      nextCursor:
        limit > 0 && items.length === limit && rest.length > limit ? (items.at(-1)?.entityId ?? null) : null,
    };
  };
  const double: SourceDouble = {
    calls: 0,
    add(kind, item) {
      if (!held.has(kind)) held.set(kind, new Map());
      held.get(kind)?.set(item.entityId, item);
    },
    remove(kind, entityId) {
      held.get(kind)?.delete(entityId);
    },
    content: {
      dayActivity: async ({ day, kind, after, limit }) => {
        double.calls++;
        return page(kind, day, after, limit);
      },
    },
    social: {
      dayActivity: async ({ day, kind, after, limit }) => {
        double.calls++;
        return page(kind, day, after, limit);
      },
    },
  };
  return double;
}
