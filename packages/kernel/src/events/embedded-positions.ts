import { type Kysely, sql } from 'kysely';
import type { Database, DatabaseProvider } from '../db/database.js';
import { sleep } from '../workers/sleep.js';
import type { GroupPositions, LogPositions } from './backfill.js';
import type { KernelTables } from './kernel-tables.js';
import { OutboxHorizon } from './outbox-horizon.js';

/** The embedded log has one partition per topic. */
const PARTITION = 0;
/** How long `end` waits for running writers to settle before it takes a lower (still safe) horizon. */
const SETTLE_MS = 2000;

/**
 * Positions on the embedded log: a topic's position is an outbox seq of its
 * producer's schema, and a group's checkpoint (consumer_offsets) is the last
 * seq it is done with.
 */
export function embeddedGroupPositions(provider: DatabaseProvider): GroupPositions {
  return {
    async hasCheckpoint(group, topics, database: Database<unknown>) {
      const row = await (database.db as Kysely<KernelTables>)
        .selectFrom('consumer_offsets')
        .select('topic')
        .where('group_id', '=', group)
        .where('topic', 'in', [...topics])
        .executeTakeFirst();
      return row !== undefined;
    },

    async end(topics) {
      const positions: LogPositions = {};
      const horizons = new Map<string, number>();
      for (const topic of topics) {
        // nova.<schema>.<aggregate>.v1, already checked when the consumer was created.
        const schema = topic.split('.')[1] ?? '';
        let horizon = horizons.get(schema);
        if (horizon === undefined) {
          horizon = await settledHorizon(await provider.open<unknown>(schema), schema);
          horizons.set(schema, horizon);
        }
        positions[topic] = { [PARTITION]: String(horizon) };
      }
      return positions;
    },

    async seek(group, positions, db) {
      for (const [topic, partitions] of Object.entries(positions)) {
        const position = Number(partitions[PARTITION] ?? 0);
        // Forward only: a replica that seeks late never moves a running group back.
        await db
          .insertInto('consumer_offsets')
          .values({ group_id: group, topic, partition: PARTITION, position })
          .onConflict((oc) =>
            oc.columns(['group_id', 'topic', 'partition']).doUpdateSet({
              position: sql<number>`greatest(consumer_offsets.position, excluded.position)`,
              updated_at: new Date(),
            }),
          )
          .execute();
      }
    },
  };
}

/**
 * The outbox horizon (ADR 013): every seq up to it is committed or rolled
 * back, and any transaction that commits later draws a higher one. Writers
 * running right now hold it back; it is measured until they settled (or
 * SETTLE_MS passed — a lower position only means more events replayed).
 */
async function settledHorizon(producer: Database<unknown>, schema: string): Promise<number> {
  const tracker = new OutboxHorizon(schema);
  const until = Date.now() + SETTLE_MS;
  let horizon = await tracker.advance(producer.db);
  while (tracker.behind && Date.now() < until) {
    await sleep(20);
    horizon = await tracker.advance(producer.db);
  }
  return horizon;
}
