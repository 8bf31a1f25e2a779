import type { ClientEventRow, EngagementRow } from './rows.js';
import { postHourlySelect, waitForMutations } from './schema.js';
import { str, strList } from './sql-literals.js';
import type { Warehouse } from './warehouse.js';

/**
 * The one writer of the analytics tables (the sink, backfill and account
 * deletion go through it). Every write is idempotent: rows are keyed by
 * event or entity id, so a redelivered batch changes no count.
 */
export function createAnalyticsWriter(warehouse: Warehouse, db: string) {
  return {
    async writeClientEvents(rows: readonly ClientEventRow[]): Promise<void> {
      await warehouse.insert(`${db}.client_events`, rows as unknown as Record<string, unknown>[]);
    },

    async writeEngagements(rows: readonly EngagementRow[]): Promise<void> {
      await warehouse.insert(`${db}.engagements`, rows as unknown as Record<string, unknown>[]);
    },

    /**
     * Removes an account's client events and engagements, then rebuilds the
     * hourly rollup of the posts its events touched (a materialized view
     * only sees inserts). The rebuild inserts uniqExact states of the
     * remaining events: merged with any state inserted meanwhile, the sets
     * stay exact.
     */
    async deleteUser(userId: string): Promise<{ posts: number }> {
      const user = str(userId);
      const touched = await warehouse.query<{ post_id: string }>(
        `SELECT DISTINCT post_id FROM ${db}.client_events WHERE user_id = ${user} AND post_id != ''`,
      );
      await warehouse.command(`ALTER TABLE ${db}.client_events DELETE WHERE user_id = ${user}`);
      await warehouse.command(
        `ALTER TABLE ${db}.engagements DELETE WHERE actor_id = ${user} OR owner_id = ${user}`,
      );
      await waitForMutations(warehouse, db, 'client_events');
      await waitForMutations(warehouse, db, 'engagements');
      const posts = touched.map((row) => row.post_id);
      if (posts.length > 0) {
        const list = strList(posts);
        await warehouse.command(`ALTER TABLE ${db}.post_hourly DELETE WHERE post_id IN ${list}`);
        await waitForMutations(warehouse, db, 'post_hourly');
        await warehouse.command(
          `INSERT INTO ${db}.post_hourly ${postHourlySelect(db, `post_id IN ${list}`)}`,
        );
      }
      return { posts: posts.length };
    },
  };
}

export type AnalyticsWriter = ReturnType<typeof createAnalyticsWriter>;
