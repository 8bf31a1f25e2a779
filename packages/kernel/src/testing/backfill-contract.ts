import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import { defineBackfill, type SnapshotPage } from '../events/backfill.js';
import { requestBackfill } from '../events/backfilling-consumer.js';
import {
  type ConsumeContext,
  type EventLog,
  type EventRecord,
  type EventValidator,
  topicFor,
} from '../events/event-log.js';
import type { KernelTables } from '../events/kernel-tables.js';
import { createOutboxWriter } from '../events/outbox.js';
import type { Worker } from '../workers/worker.js';

/** What an event log gives the backfill suite (see describeBackfillContract). */
export interface BackfillHarness {
  log: EventLog;
  /** The producing service: owns the `edges` state and writes the events. */
  producer: Database<unknown>;
  /** The late group's service: holds the read model and the kernel's consumer tables. */
  consumer: Database<unknown>;
  /**
   * Retention: every event of the topic written so far is gone from the log
   * (embedded: the outbox rows deleted; Kafka: published, then the records
   * deleted up to the end of each partition).
   */
  forget(aggregateType: string, topic: string): Promise<void>;
  close(): Promise<void>;
}

export type MakeBackfillHarness = (validate: EventValidator) => Promise<BackfillHarness>;

interface Edge {
  a: string;
  b: string;
}

interface Tables {
  backfill_edges: { aggregate: string; a: string; b: string };
  backfill_model: { group_id: string; a: string; b: string };
}

const validate: EventValidator = (type, payload) => {
  if (type !== 'edge.linked' && type !== 'edge.unlinked') throw new Error(`unknown event type ${type}`);
  const edge = payload as Partial<Edge> | null;
  if (typeof edge?.a !== 'string' || typeof edge.b !== 'string') throw new Error('payload needs a and b');
};

const WAIT = { timeout: 60_000, interval: 50 };

/**
 * A late consumer group builds its read model from the owning service's
 * snapshot, then follows the log (ADR 018), on every event log: the old
 * events are gone (retention) and the model still equals the source; writes
 * racing the backfill are neither lost nor doubled; a backfill stopped after
 * some pages resumes from its cursor; no event is consumed before the
 * backfill finished, and health shows the progress meanwhile.
 *
 * The source is an edge set (link / unlink, one event per change, written in
 * the same transaction), read in keyset pages like a sync API's snapshot.
 */
export function describeBackfillContract(name: string, makeHarness: MakeBackfillHarness): void {
  describe(`backfill contract: ${name}`, () => {
    let h: BackfillHarness;
    let relay: Worker | null = null;
    let counter = 0;
    const workers: Worker[] = [];
    const writer = createOutboxWriter(validate);

    beforeAll(async () => {
      h = await makeHarness(validate);
      await sql`create table if not exists ${sql.id(h.producer.schema, 'backfill_edges')} (
        aggregate text not null, a text not null, b text not null, primary key (aggregate, a, b)
      )`.execute(h.producer.db);
      await sql`create table if not exists ${sql.id(h.consumer.schema, 'backfill_model')} (
        group_id text not null, a text not null, b text not null, primary key (group_id, a, b)
      )`.execute(h.consumer.db);
      relay = h.log.relay(h.producer);
      await relay?.start();
    });

    afterAll(async () => {
      const deadline = Date.now() + 5000;
      await Promise.all(workers.map((w) => w.stop(deadline)));
      await relay?.stop(deadline);
      await h?.log.close();
      await h?.close();
    });

    const fresh = () => {
      counter += 1;
      const aggregateType = `${h.producer.schema}.edge${counter}_${randomUUID().slice(0, 8)}`;
      return {
        aggregateType,
        topic: topicFor(aggregateType),
        group: `backfill.g${counter}_${randomUUID().slice(0, 6)}`,
      };
    };

    const source = (db: unknown) => db as Kysely<Tables>;
    const kernel = (db: unknown) => db as Kysely<KernelTables>;

    /** One change of the source, with its event, in one transaction (as a service writes them). */
    const change = async (aggregateType: string, kind: 'link' | 'unlink', edge: Edge): Promise<boolean> => {
      return h.producer.transaction(async (tx) => {
        const db = source(tx);
        const changed =
          kind === 'link'
            ? await db
                .insertInto('backfill_edges')
                .values({ aggregate: aggregateType, ...edge })
                .onConflict((oc) => oc.columns(['aggregate', 'a', 'b']).doNothing())
                .returning('a')
                .execute()
            : await db
                .deleteFrom('backfill_edges')
                .where('aggregate', '=', aggregateType)
                .where('a', '=', edge.a)
                .where('b', '=', edge.b)
                .returning('a')
                .execute();
        if (changed.length === 0) return false;
        await writer.write(tx, [
          {
            aggregateType,
            aggregateId: edge.a,
            type: kind === 'link' ? 'edge.linked' : 'edge.unlinked',
            payload: edge,
          },
        ]);
        return true;
      });
    };

    const sourceEdges = async (aggregateType: string): Promise<string[]> => {
      const rows = await source(h.producer.db)
        .selectFrom('backfill_edges')
        .select(['a', 'b'])
        .where('aggregate', '=', aggregateType)
        .execute();
      return rows.map((r) => `${r.a}>${r.b}`).sort();
    };
    const modelEdges = async (group: string): Promise<string[]> => {
      const rows = await source(h.consumer.db)
        .selectFrom('backfill_model')
        .select(['a', 'b'])
        .where('group_id', '=', group)
        .execute();
      return rows.map((r) => `${r.a}>${r.b}`).sort();
    };
    const backfillRow = (group: string) =>
      kernel(h.consumer.db)
        .selectFrom('consumer_backfills')
        .selectAll()
        .where('group_id', '=', group)
        .executeTakeFirst();

    /** The snapshot: keyset pages of the source, as a sync API would serve them. */
    const snapshot = (aggregateType: string) => {
      const reads: Array<string | null> = [];
      let delayMs = 0;
      const read = async (cursor: string | null, limit: number): Promise<SnapshotPage<Edge>> => {
        reads.push(cursor);
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        const after = cursor ? (JSON.parse(cursor) as Edge) : null;
        let query = source(h.producer.db)
          .selectFrom('backfill_edges')
          .select(['a', 'b'])
          .where('aggregate', '=', aggregateType);
        if (after)
          query = query.where(({ eb, refTuple, tuple }) =>
            eb(refTuple('a', 'b'), '>', tuple(after.a, after.b)),
          );
        const rows = await query
          .orderBy('a')
          .orderBy('b')
          .limit(limit + 1)
          .execute();
        const items = rows.slice(0, limit);
        const last = items[items.length - 1];
        return { items, nextCursor: rows.length > limit && last ? JSON.stringify(last) : null };
      };
      return {
        read,
        reads,
        slow(ms: number) {
          delayMs = ms;
        },
      };
    };

    interface Started {
      worker: Worker;
      /** Events the handlers ran for while the backfill was not done (must stay 0). */
      early: () => number;
      /** Event ids whose effects committed, in commit order. */
      applied: string[];
    }

    /** The late group: state-setting handlers (insert/delete of the edge) and a backfill from the snapshot. */
    const startGroup = async (
      group: string,
      topic: string,
      read: (cursor: string | null, limit: number) => Promise<SnapshotPage<Edge>>,
      pageSize: number,
    ): Promise<Started> => {
      let early = 0;
      const applied: string[] = [];
      const model = (tx: unknown) => source(tx);
      const handle = async (event: EventRecord, { tx }: ConsumeContext<unknown>) => {
        const state = await kernel(tx)
          .selectFrom('consumer_backfills')
          .select('state')
          .where('group_id', '=', group)
          .executeTakeFirst();
        if (state?.state !== 'done') early += 1;
        const edge = event.payload as Edge;
        if (event.type === 'edge.linked')
          await model(tx)
            .insertInto('backfill_model')
            .values({ group_id: group, ...edge })
            .onConflict((oc) => oc.columns(['group_id', 'a', 'b']).doNothing())
            .execute();
        else
          await model(tx)
            .deleteFrom('backfill_model')
            .where('group_id', '=', group)
            .where('a', '=', edge.a)
            .where('b', '=', edge.b)
            .execute();
        applied.push(event.id);
      };
      const worker = h.log.consumer({
        group,
        topics: [topic],
        database: h.consumer,
        handle,
        backfill: defineBackfill<unknown, Edge>({
          read,
          pageSize,
          async reset({ tx }) {
            await model(tx).deleteFrom('backfill_model').where('group_id', '=', group).execute();
          },
          async apply(items, { tx }) {
            if (items.length === 0) return;
            await model(tx)
              .insertInto('backfill_model')
              .values(items.map((e) => ({ group_id: group, a: e.a, b: e.b })))
              .onConflict((oc) => oc.columns(['group_id', 'a', 'b']).doNothing())
              .execute();
          },
        }),
      });
      workers.push(worker);
      await worker.start();
      return { worker, early: () => early, applied };
    };

    const pairs = (n: number): Edge[] =>
      Array.from({ length: n * n }, (_, i) => ({ a: `u${Math.floor(i / n)}`, b: `u${i % n}` })).filter(
        (e) => e.a !== e.b,
      );

    it('a late group whose topic lost its old events to retention builds the model from the snapshot', async () => {
      const { aggregateType, topic, group } = fresh();
      const all = pairs(8); // 56 edges
      for (const edge of all) await change(aggregateType, 'link', edge);
      for (const edge of all.filter((_, i) => i % 4 === 0)) await change(aggregateType, 'unlink', edge);
      await h.forget(aggregateType, topic);
      const expected = await sourceEdges(aggregateType);
      expect(expected).toHaveLength(42);

      const snap = snapshot(aggregateType);
      const late = await startGroup(group, topic, snap.read, 10);
      await expect.poll(async () => (await backfillRow(group))?.state, WAIT).toBe('done');
      expect(await modelEdges(group)).toEqual(expected);
      expect(snap.reads.length).toBe(5); // 42 edges in pages of 10
      // The group follows the log from the recorded end: a new change reaches the model.
      expect(expected).toContain('u0>u4');
      expect(expected).not.toContain('u1>u2');
      await change(aggregateType, 'unlink', { a: 'u0', b: 'u4' });
      await change(aggregateType, 'link', { a: 'u1', b: 'u2' });
      const now = await sourceEdges(aggregateType);
      expect(now).not.toEqual(expected);
      await expect.poll(() => modelEdges(group), WAIT).toEqual(now);
      expect(late.early()).toBe(0);
      expect(late.applied).toHaveLength(2);
    });

    it('changes racing the backfill are neither lost nor doubled', async () => {
      const { aggregateType, topic, group } = fresh();
      const all = pairs(10);
      for (const edge of all.filter((_, i) => i % 2 === 0)) await change(aggregateType, 'link', edge);
      const snap = snapshot(aggregateType);
      snap.slow(60);
      let writing = true;
      let changes = 0;
      // Random flips of edges (link and unlink), behind and ahead of the snapshot cursor.
      const racer = (async () => {
        while (writing) {
          const edge = all[Math.floor(Math.random() * all.length)] as Edge;
          const kind = Math.random() < 0.5 ? 'unlink' : 'link';
          if (await change(aggregateType, kind, edge)) changes += 1;
          // Requests arrive over time; back-to-back transactions would starve PGlite's one session.
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      })();
      let late: Started;
      let duringBackfill = 0;
      try {
        late = await startGroup(group, topic, snap.read, 3);
        await expect.poll(async () => (await backfillRow(group))?.state, WAIT).toBe('done');
        duringBackfill = changes;
        // Keep writing a little after the group took over the log.
        await expect.poll(() => changes - duringBackfill, WAIT).toBeGreaterThanOrEqual(20);
      } finally {
        writing = false;
        await racer;
      }
      // A real race: the source changed many times while its snapshot was read.
      expect(duringBackfill).toBeGreaterThanOrEqual(10);
      await expect.poll(() => modelEdges(group), WAIT).toEqual(await sourceEdges(aggregateType));
      expect(late.early()).toBe(0);
      // Each event's effects committed once (the processed-event record forbids a second time).
      expect(new Set(late.applied).size).toBe(late.applied.length);
    });

    it('a backfill stopped after some pages resumes from its cursor and converges', async () => {
      const { aggregateType, topic, group } = fresh();
      for (const edge of pairs(9)) await change(aggregateType, 'link', edge); // 72 edges
      await h.forget(aggregateType, topic);
      const first = snapshot(aggregateType);
      first.slow(40);
      const crashing = await startGroup(group, topic, first.read, 6);
      await expect
        .poll(async () => Number((await backfillRow(group))?.pages ?? 0), WAIT)
        .toBeGreaterThanOrEqual(3);
      // Visible while it runs: readiness reports the group as backfilling, not as consuming.
      const health = crashing.worker.health();
      expect(health.status).toBe('degraded');
      expect(health.reason).toMatch(/backfilling/);
      await crashing.worker.stop(Date.now() + 5000);
      const stopped = await backfillRow(group);
      expect(stopped?.state).toBe('snapshot');
      expect(stopped?.cursor).not.toBeNull();
      const pagesBefore = Number(stopped?.pages);
      expect(pagesBefore).toBeLessThan(12);
      expect((await modelEdges(group)).length).toBe(pagesBefore * 6);

      // Changes while the group is down: behind and ahead of the stored cursor.
      await change(aggregateType, 'unlink', { a: 'u0', b: 'u1' });
      await change(aggregateType, 'unlink', { a: 'u8', b: 'u7' });
      await change(aggregateType, 'link', { a: 'u8', b: 'u7' });
      await change(aggregateType, 'unlink', { a: 'u8', b: 'u6' });

      const second = snapshot(aggregateType);
      const restarted = await startGroup(group, topic, second.read, 6);
      await expect.poll(async () => (await backfillRow(group))?.state, WAIT).toBe('done');
      // Resumed after the last applied page, not from the start.
      expect(second.reads[0]).toBe(stopped?.cursor);
      expect(Number((await backfillRow(group))?.pages)).toBe(12);
      await expect.poll(() => modelEdges(group), WAIT).toEqual(await sourceEdges(aggregateType));
      expect(restarted.early()).toBe(0);
      expect(crashing.early()).toBe(0);
      expect(restarted.worker.health().status).toBe('ok');
    });

    it('a requested rebuild resets the model and builds it again from a new position', async () => {
      const { aggregateType, topic, group } = fresh();
      for (const edge of pairs(5)) await change(aggregateType, 'link', edge);
      const first = await startGroup(group, topic, snapshot(aggregateType).read, 7);
      await expect.poll(async () => (await backfillRow(group))?.state, WAIT).toBe('done');
      await change(aggregateType, 'unlink', { a: 'u0', b: 'u1' });
      await expect.poll(() => modelEdges(group), WAIT).toEqual(await sourceEdges(aggregateType));
      await first.worker.stop(Date.now() + 5000);
      // The model went wrong (a bug, a bad migration): a row the source never had.
      await source(h.consumer.db)
        .insertInto('backfill_model')
        .values({ group_id: group, a: 'ghost', b: 'u0' })
        .execute();
      await change(aggregateType, 'unlink', { a: 'u2', b: 'u3' });
      await requestBackfill(h.consumer, group);
      const again = snapshot(aggregateType);
      const rebuilt = await startGroup(group, topic, again.read, 7);
      await expect.poll(async () => (await backfillRow(group))?.state, WAIT).toBe('done');
      expect(again.reads[0]).toBeNull();
      await change(aggregateType, 'link', { a: 'u0', b: 'u1' });
      await expect.poll(() => modelEdges(group), WAIT).toEqual(await sourceEdges(aggregateType));
      expect(await modelEdges(group)).not.toContain('ghost>u0');
      expect(rebuilt.early()).toBe(0);
    });
  });
}
