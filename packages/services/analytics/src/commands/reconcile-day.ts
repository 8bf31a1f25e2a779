import type { ContentApi, DayActivityItem, DayActivityPage, SocialApi } from '@nova/contracts';
import { gauge, ValidationError } from '@nova/kernel';
import { sql } from 'kysely';
import type { AnalyticsContext } from '../context.js';
import { tablesOf } from '../store/tables-of.js';
import type { AnalyticsWriter } from '../warehouse/analytics-writer.js';
import {
  ENGAGEMENT_KINDS,
  type EngagementKind,
  type EngagementRow,
  engagementRow,
} from '../warehouse/rows.js';
import { day as dayLiteral, str } from '../warehouse/sql-literals.js';

/** The sync APIs the counts come from: content (posts, likes, comments) and social (follows). */
export interface ActivitySources {
  content: Pick<ContentApi, 'dayActivity'>;
  social: Pick<SocialApi, 'dayActivity'>;
}

export interface KindDrift {
  kind: EngagementKind;
  source: number;
  store: number;
  /** store − source: negative = missing in the store, positive = more than the source holds. */
  drift: number;
}

export interface DayReconciliation {
  day: string;
  kinds: KindDrift[];
}

export interface DayBackfill extends DayReconciliation {
  written: number;
  removed: number;
}

const PAGE = 1000;

export function checkDay(day: string): string {
  const at = Date.parse(`${day}T00:00:00Z`);
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(day) ||
    Number.isNaN(at) ||
    new Date(at).toISOString().slice(0, 10) !== day
  ) {
    throw new ValidationError('The day is invalid.', [
      { field: '/day', message: 'must be a UTC day YYYY-MM-DD' },
    ]);
  }
  return day;
}

/**
 * Reconciliation (ADR 026): per UTC day and kind, what the source services
 * hold against what the analytics store counts; the difference goes to the
 * `nova_analytics_drift` gauge and the reconciliations table. Backfill
 * rewrites a day from the sources: every entity they hold is written as
 * live, every live one the store has and they do not is written as removed
 * (a newer version wins in ReplacingMergeTree), so the day then agrees.
 */
export function createReconciler(ctx: AnalyticsContext, sources: ActivitySources, writer: AnalyticsWriter) {
  const db = ctx.settings.database;
  const driftGauge = gauge(ctx.metrics, {
    name: 'nova_analytics_drift',
    help: 'analytics store count minus source count of the last reconciled day, per kind (0 = in step)',
    labelNames: ['kind'],
  });

  const sourcePage = (
    kind: EngagementKind,
    day: string,
    after: string | null,
    limit: number,
  ): Promise<DayActivityPage> =>
    kind === 'follow'
      ? sources.social.dayActivity({ day, kind, after, limit })
      : sources.content.dayActivity({ day, kind, after, limit });

  const storeCount = async (kind: EngagementKind, day: string): Promise<number> => {
    const [row] = await ctx.warehouse.query<{ n: string | number }>(
      `SELECT count() AS n FROM ${db}.engagements FINAL
       WHERE kind = ${str(kind)} AND deleted = 0 AND toDate(created_at) = ${dayLiteral(day)}`,
    );
    return Number(row?.n ?? 0);
  };

  const reconcile = async (day: string): Promise<DayReconciliation> => {
    checkDay(day);
    const kinds: KindDrift[] = [];
    for (const kind of ENGAGEMENT_KINDS) {
      const [source, store] = await Promise.all([
        sourcePage(kind, day, null, 0).then((page) => page.total),
        storeCount(kind, day),
      ]);
      kinds.push({ kind, source, store, drift: store - source });
    }
    const { reconciliations } = tablesOf(ctx.database.db);
    for (const k of kinds) {
      await sql`
        INSERT INTO ${reconciliations} (day, kind, source_count, store_count, checked_at)
        VALUES (${day}::date, ${k.kind}, ${k.source}, ${k.store}, now())
        ON CONFLICT (day, kind) DO UPDATE
          SET source_count = EXCLUDED.source_count, store_count = EXCLUDED.store_count, checked_at = now()`.execute(
        ctx.database.db,
      );
      driftGauge.set({ kind: k.kind }, k.drift);
    }
    return { day, kinds };
  };

  const backfillKind = async (kind: EngagementKind, day: string, version: number) => {
    const held = new Set<string>();
    let written = 0;
    let after: string | null = null;
    do {
      const page: DayActivityPage = await sourcePage(kind, day, after, PAGE);
      const rows = page.items.map((item: DayActivityItem): EngagementRow => {
        held.add(item.entityId);
        return {
          ...engagementRow(
            {
              kind,
              subject_id: item.subjectId,
              owner_id: item.ownerId,
              actor_id: item.actorId,
              entity_id: item.entityId,
            },
            item.createdAt,
            false,
          ),
          version,
        };
      });
      await writer.writeEngagements(rows);
      written += rows.length;
      after = page.nextCursor;
    } while (after);
    const live = await ctx.warehouse.query<EngagementRow>(
      `SELECT kind, subject_id, owner_id, actor_id, entity_id, created_at, deleted, version
       FROM ${db}.engagements FINAL
       WHERE kind = ${str(kind)} AND deleted = 0 AND toDate(created_at) = ${dayLiteral(day)}`,
    );
    const extra = live
      .filter((row) => !held.has(row.entity_id))
      .map((row): EngagementRow => ({ ...row, deleted: 1, version: version + 1 }));
    await writer.writeEngagements(extra);
    return { written, removed: extra.length };
  };

  return {
    reconcile,
    async backfill(day: string): Promise<DayBackfill> {
      checkDay(day);
      // Newer than anything the sink wrote so far: the sources' state as of now wins.
      const version = Date.now() * 2;
      let written = 0;
      let removed = 0;
      for (const kind of ENGAGEMENT_KINDS) {
        const outcome = await backfillKind(kind, day, version);
        written += outcome.written;
        removed += outcome.removed;
      }
      return { ...(await reconcile(day)), written, removed };
    },
  };
}

export type Reconciler = ReturnType<typeof createReconciler>;
