import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import { FatalError, TransientError } from '../errors/errors.js';
import {
  type BatchConsumerSpec,
  type EventConsumerSpec,
  type EventLog,
  type EventRecord,
  type EventValidator,
  type OutboxEvent,
  topicFor,
} from '../events/event-log.js';
import type { KernelTables } from '../events/kernel-tables.js';
import { createOutboxWriter } from '../events/outbox.js';
import { createHealthRegistry } from '../health/registry.js';
import type { Worker } from '../workers/worker.js';
import { workerHealthCheck } from '../workers/worker-health.js';

/**
 * What an event log implementation gives the contract suite. The producer
 * and consumer databases have the kernel tables migrated; the suite creates
 * its own `contract_effects` table in the consumer schema and writes events
 * with the kernel outbox writer (or raw outbox rows, for invalid payloads).
 */
export interface EventLogHarness {
  log: EventLog;
  /** The producing service's database; aggregate types are `<producer.schema>.<name>`. */
  producer: Database<unknown>;
  consumer: Database<unknown>;
  /** How many of `topic`'s events the group's committed checkpoint covers. */
  checkpointed(group: string, topic: string): Promise<number>;
  /** Drops the group's committed checkpoint, as if the consumer crashed before committing it. */
  rewind(group: string, topic: string): Promise<void>;
  deadLetters(group: string): Promise<Array<{ eventId: string; reason: string; attempts: number }>>;
  /**
   * Consumer transactions the consumer database runs at once (default
   * unbounded). PGlite is one session: 1. A handler runs inside its
   * transaction, so this caps how many handlers can be seen running.
   */
  transactionParallelism?: number;
  close(): Promise<void>;
}

/** Builds a harness whose log validates payloads with `validate`. */
export type MakeEventLogHarness = (validate: EventValidator) => Promise<EventLogHarness>;

interface Effects {
  contract_effects: { id?: number; group_id: string; event_id: string; key: string; n: number };
}

interface ProbePayload {
  n: number;
}

/** The suite's own tiny contract: "probe.happened" with an integer n. */
const validate: EventValidator = (type, payload) => {
  if (type !== 'probe.happened') throw new Error(`unknown event type ${type}`);
  const n = (payload as Partial<ProbePayload> | null)?.n;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new Error('payload.n must be an integer');
};

const FAST_RETRY = { maxAttempts: 3, baseDelayMs: 40, maxDelayMs: 1000 };
const WAIT = { timeout: 15_000, interval: 25 };

/**
 * The behaviour every EventLog must have (embedded outbox log, Kafka):
 * per-key order, independent groups, checkpoints after effects, no repeated
 * effects on redelivery, retry with back-off then dead letter, fatal events
 * dead-lettered at once, bounded concurrency with backpressure, draining stop.
 */
export function describeEventLogContract(name: string, makeHarness: MakeEventLogHarness): void {
  describe(`event log contract: ${name}`, () => {
    let h: EventLogHarness;
    let relay: Worker | null = null;
    let counter = 0;
    const workers: Worker[] = [];
    const writer = createOutboxWriter(validate);

    beforeAll(async () => {
      h = await makeHarness(validate);
      await sql`create table if not exists ${sql.id(h.consumer.schema, 'contract_effects')} (
        id serial primary key, group_id text not null, event_id uuid not null, key text not null, n int not null
      )`.execute(h.consumer.db);
      relay = h.log.relay(h.producer);
      await relay?.start();
    });

    afterAll(async () => {
      const deadline = Date.now() + 5000;
      await Promise.all(workers.map((w) => w.stop(deadline)));
      await relay?.stop(deadline);
      await h.log.close();
      await h.close();
    });

    /** A fresh aggregate type, topic and group per test keeps tests independent. */
    const fresh = () => {
      counter += 1;
      const aggregateType = `${h.producer.schema}.probe${counter}_${randomUUID().slice(0, 8)}`;
      return { aggregateType, topic: topicFor(aggregateType), group: `contract.g${counter}` };
    };

    const publish = async (aggregateType: string, items: Array<{ key: string; n: number }>) => {
      const events: OutboxEvent[] = items.map(({ key, n }) => ({
        aggregateType,
        aggregateId: key,
        type: 'probe.happened',
        payload: { n },
      }));
      await h.producer.transaction((tx) => writer.write(tx, events));
    };

    const effects = (tx: unknown) => tx as Kysely<Effects>;
    const recordEffect = async (tx: unknown, group: string, event: EventRecord) => {
      await effects(tx)
        .insertInto('contract_effects')
        .values({ group_id: group, event_id: event.id, key: event.key, n: (event.payload as ProbePayload).n })
        .execute();
    };
    const effectsOf = (group: string) =>
      effects(h.consumer.db)
        .selectFrom('contract_effects')
        .select(['event_id', 'key', 'n'])
        .where('group_id', '=', group)
        .orderBy('id')
        .execute();

    const startConsumer = async (spec: Omit<EventConsumerSpec<unknown>, 'database'>): Promise<Worker> => {
      const worker = h.log.consumer({ ...spec, database: h.consumer });
      workers.push(worker);
      await worker.start();
      return worker;
    };

    const startBatchConsumer = async (
      spec: Omit<BatchConsumerSpec<unknown>, 'database'>,
    ): Promise<Worker> => {
      const worker = h.log.consumer({ ...spec, database: h.consumer });
      workers.push(worker);
      await worker.start();
      return worker;
    };
    /** One multi-row insert for a batch's effects, as a real batch handler would. */
    const recordEffects = async (tx: unknown, group: string, events: readonly EventRecord[]) => {
      if (events.length === 0) return;
      await effects(tx)
        .insertInto('contract_effects')
        .values(
          events.map((event) => ({
            group_id: group,
            event_id: event.id,
            key: event.key,
            n: (event.payload as ProbePayload).n,
          })),
        )
        .execute();
    };
    const expectPerKeyOrder = (rows: Array<{ key: string; n: number }>) => {
      const byKey = new Map<string, number[]>();
      for (const r of rows) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r.n]);
      for (const ns of byKey.values()) expect(ns).toEqual([...ns].sort((a, b) => a - b));
    };

    it('batch: applies every event once, in per-key order, at most maxEvents per transaction', async () => {
      const { aggregateType, topic, group } = fresh();
      for (let from = 0; from < 300; from += 50) {
        await publish(
          aggregateType,
          Array.from({ length: 50 }, (_, i) => ({ key: `k${(from + i) % 7}`, n: from + i })),
        );
      }
      const sizes: number[] = [];
      await startBatchConsumer({
        group,
        topics: [topic],
        batch: { maxEvents: 64, maxWaitMs: 30 },
        handleBatch: async (events, { tx }) => {
          sizes.push(events.length);
          await recordEffects(tx, group, events);
        },
      });
      await expect.poll(() => h.checkpointed(group, topic), WAIT).toBe(300);
      const rows = await effectsOf(group);
      expect(rows).toHaveLength(300);
      expect(new Set(rows.map((r) => r.event_id)).size).toBe(300);
      expectPerKeyOrder(rows);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(64);
      // Batched for real: far fewer transactions than events.
      expect(sizes.length).toBeLessThanOrEqual(30);
    });

    it('batch: a crash mid-batch loses and doubles nothing; a redelivered batch is applied once', async () => {
      const { aggregateType, topic, group } = fresh();
      await publish(
        aggregateType,
        Array.from({ length: 40 }, (_, n) => ({ key: `k${n % 5}`, n })),
      );
      let failing = 0;
      const crashing = await startBatchConsumer({
        group,
        topics: [topic],
        batch: { maxEvents: 100, maxWaitMs: 30 },
        // A long back-off: the process "dies" while the batch's effects are rolled back and not yet retried.
        retry: { maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 },
        handleBatch: async (events, { tx }) => {
          await recordEffects(tx, group, events);
          failing += 1;
          throw new TransientError('crash in the middle of the batch');
        },
      });
      await expect.poll(() => failing, WAIT).toBeGreaterThanOrEqual(1);
      await crashing.stop(Date.now() + 1500);
      expect(await effectsOf(group)).toHaveLength(0);
      expect(await h.checkpointed(group, topic)).toBe(0);

      const second = await startBatchConsumer({
        group,
        topics: [topic],
        batch: { maxEvents: 100, maxWaitMs: 30 },
        handleBatch: (events, { tx }) => recordEffects(tx, group, events),
      });
      await expect.poll(() => h.checkpointed(group, topic), WAIT).toBe(40);
      await second.stop(Date.now() + 5000);
      expect(await effectsOf(group)).toHaveLength(40);

      // Effects committed, checkpoint lost: the redelivered batch reaches no handler.
      await h.rewind(group, topic);
      let redelivered = 0;
      await startBatchConsumer({
        group,
        topics: [topic],
        batch: { maxEvents: 100, maxWaitMs: 30 },
        handleBatch: async (events, { tx }) => {
          redelivered += events.length;
          await recordEffects(tx, group, events);
        },
      });
      await expect.poll(() => h.checkpointed(group, topic), WAIT).toBe(40);
      expect(redelivered).toBe(0);
      const rows = await effectsOf(group);
      expect(rows).toHaveLength(40);
      expect(new Set(rows.map((r) => r.event_id)).size).toBe(40);
      expectPerKeyOrder(rows);
    });

    it('batch: a poison event is dead-lettered alone; the rest of its batch is applied once', async () => {
      const { aggregateType, topic, group } = fresh();
      await publish(
        aggregateType,
        Array.from({ length: 40 }, (_, n) => ({ key: `k${n % 5}`, n })),
      );
      // A row that breaks the contract, from a producer on an older contract.
      await (h.producer.db as unknown as Kysely<KernelTables>)
        .insertInto('outbox')
        .values({
          id: randomUUID(),
          aggregatetype: aggregateType,
          aggregateid: 'bad',
          type: 'probe.happened',
          payload: JSON.stringify({ n: 'not a number' }),
        })
        .execute();
      const calls: number[] = [];
      await startBatchConsumer({
        group,
        topics: [topic],
        batch: { maxEvents: 64, maxWaitMs: 50 },
        retry: FAST_RETRY,
        handleBatch: async (events, { tx }) => {
          calls.push(events.length);
          await recordEffects(tx, group, events);
          const ns = events.map((e) => (e.payload as ProbePayload).n);
          if (ns.includes(13)) throw new FatalError('cannot ever apply n=13');
          if (ns.includes(27)) throw new TransientError('n=27 keeps timing out');
        },
      });
      await expect.poll(async () => (await h.deadLetters(group)).length, WAIT).toBe(3);
      await expect.poll(() => h.checkpointed(group, topic), WAIT).toBe(41);
      const letters = await h.deadLetters(group);
      expect(letters.map((l) => l.attempts).sort()).toEqual([1, 1, 3]);
      expect(letters.some((l) => l.reason.includes('contract'))).toBe(true);
      expect(letters.some((l) => l.reason.includes('cannot ever apply n=13') && l.attempts === 1)).toBe(true);
      expect(letters.some((l) => l.reason.includes('n=27 keeps timing out') && l.attempts === 3)).toBe(true);
      const rows = await effectsOf(group);
      expect(rows.map((r) => r.n).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 40 }, (_, n) => n).filter((n) => n !== 13 && n !== 27),
      );
      expect(new Set(rows.map((r) => r.event_id)).size).toBe(38);
      expectPerKeyOrder(rows);
      // Isolating two poison events among 40 takes a handful of transactions, not one per event.
      expect(calls.length).toBeLessThan(30);
    });

    it('batch: lanes that committed before a lost checkpoint apply nothing twice; a dead letter stays final', async () => {
      const { aggregateType, topic, group } = fresh();
      for (let from = 0; from < 400; from += 100)
        await publish(
          aggregateType,
          Array.from({ length: 100 }, (_, i) => ({ key: `k${(from + i) % 13}`, n: from + i })),
        );
      const batch = { maxEvents: 40, maxWaitMs: 30, inFlight: 4 };
      const first = await startBatchConsumer({
        group,
        topics: [topic],
        batch,
        retry: FAST_RETRY,
        handleBatch: async (events, { tx }) => {
          await recordEffects(tx, group, events);
          if (events.some((e) => (e.payload as ProbePayload).n === 7))
            throw new FatalError('n=7 never applies');
        },
      });
      await expect.poll(() => h.checkpointed(group, topic), WAIT).toBe(400);
      await first.stop(Date.now() + 5000);
      expect(await h.deadLetters(group)).toHaveLength(1);

      // Effects of every lane committed, checkpoint lost (a crash before it was written).
      await h.rewind(group, topic);
      let redelivered = 0;
      await startBatchConsumer({
        group,
        topics: [topic],
        batch,
        handleBatch: async (events, { tx }) => {
          redelivered += events.length;
          await recordEffects(tx, group, events);
        },
      });
      await expect.poll(() => h.checkpointed(group, topic), WAIT).toBe(400);
      expect(redelivered).toBe(0);
      const rows = await effectsOf(group);
      expect(rows).toHaveLength(399);
      expect(rows.some((r) => r.n === 7)).toBe(false);
      expectPerKeyOrder(rows);
      expect(await h.deadLetters(group)).toHaveLength(1);
    });

    it('batch: two replicas of one group started together apply every event once', async () => {
      const { aggregateType, topic, group } = fresh();
      for (let from = 0; from < 600; from += 100)
        await publish(
          aggregateType,
          Array.from({ length: 100 }, (_, i) => ({ key: `k${(from + i) % 17}`, n: from + i })),
        );
      const spec = {
        group,
        topics: [topic],
        batch: { maxEvents: 50, maxWaitMs: 20, inFlight: 4 },
        handleBatch: (events: readonly EventRecord[], { tx }: { tx: unknown }) =>
          recordEffects(tx, group, events),
      };
      await Promise.all([startBatchConsumer(spec), startBatchConsumer(spec)]);
      await expect.poll(() => h.checkpointed(group, topic), { ...WAIT, timeout: 60_000 }).toBe(600);
      const rows = await effectsOf(group);
      expect(rows).toHaveLength(600);
      expect(new Set(rows.map((r) => r.event_id)).size).toBe(600);
      expectPerKeyOrder(rows);
    });

    it('delivers events with one key in order, all of them once', async () => {
      const { aggregateType, topic, group } = fresh();
      const keys = ['a', 'b', 'c'];
      for (let n = 0; n < 10; n += 2) {
        await publish(
          aggregateType,
          keys.flatMap((key) => [
            { key, n },
            { key, n: n + 1 },
          ]),
        );
      }
      await startConsumer({
        group,
        topics: [topic],
        concurrency: 4,
        handle: async (event, { tx }) => {
          // Uneven handler times would reorder a key if lanes did not serialize it.
          await new Promise((r) => setTimeout(r, Math.random() * 5));
          await recordEffect(tx, group, event);
        },
      });
      await expect.poll(async () => (await effectsOf(group)).length, WAIT).toBe(30);
      const rows = await effectsOf(group);
      for (const key of keys) {
        expect(rows.filter((r) => r.key === key).map((r) => r.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      }
      expect(new Set(rows.map((r) => r.event_id)).size).toBe(30);
      await expect.poll(() => h.checkpointed(group, topic), WAIT).toBe(30);
    });

    it('gives every group every event', async () => {
      const { aggregateType, topic, group } = fresh();
      const other = `${group}.other`;
      for (const g of [group, other]) {
        await startConsumer({
          group: g,
          topics: [topic],
          handle: (event, { tx }) => recordEffect(tx, g, event),
        });
      }
      await publish(
        aggregateType,
        Array.from({ length: 10 }, (_, n) => ({ key: `k${n % 4}`, n })),
      );
      for (const g of [group, other]) {
        await expect.poll(async () => (await effectsOf(g)).length, WAIT).toBe(10);
      }
      await expect.poll(() => h.checkpointed(other, topic), WAIT).toBe(10);
    });

    it('checkpoints only the prefix of events whose effects committed', async () => {
      const { aggregateType, topic, group } = fresh();
      await startConsumer({
        group,
        topics: [topic],
        concurrency: 4,
        // A long back-off keeps x:1 uncommitted (and no transaction open) for a while:
        // long enough for y's events to commit first on a loaded machine (1.6 s was not).
        retry: { maxAttempts: 2, baseDelayMs: 4000, maxDelayMs: 4000 },
        handle: async (event, { tx, attempt }) => {
          await recordEffect(tx, group, event);
          if ((event.payload as ProbePayload).n === 1 && attempt === 1) throw new TransientError('not yet');
        },
      });
      await publish(aggregateType, [
        { key: 'x', n: 0 },
        { key: 'x', n: 1 },
        { key: 'y', n: 2 },
        { key: 'y', n: 3 },
      ]);
      // y's events complete while x:1 waits, but the checkpoint must stop before x:1.
      await expect.poll(async () => (await effectsOf(group)).map((r) => r.n).sort(), WAIT).toEqual([0, 2, 3]);
      await expect.poll(() => h.checkpointed(group, topic), WAIT).toBe(1);
      await new Promise((r) => setTimeout(r, 300));
      expect(await h.checkpointed(group, topic)).toBe(1);
      await expect.poll(() => h.checkpointed(group, topic), WAIT).toBe(4);
      expect((await effectsOf(group)).map((r) => r.n).sort()).toEqual([0, 1, 2, 3]);
    });

    it('does not repeat effects when events are redelivered after a crash', async () => {
      const { aggregateType, topic, group } = fresh();
      const handle: EventConsumerSpec<unknown>['handle'] = (event, { tx }) => recordEffect(tx, group, event);
      const first = await startConsumer({ group, topics: [topic], handle });
      await publish(
        aggregateType,
        Array.from({ length: 5 }, (_, n) => ({ key: `k${n}`, n })),
      );
      await expect.poll(() => h.checkpointed(group, topic), WAIT).toBe(5);
      await first.stop(Date.now() + 5000);
      // The crash: effects committed, the checkpoint lost.
      await h.rewind(group, topic);
      expect(await h.checkpointed(group, topic)).toBe(0);
      let calls = 0;
      await startConsumer({
        group,
        topics: [topic],
        handle: async (event, ctx) => {
          calls += 1;
          await handle(event, ctx);
        },
      });
      await expect.poll(() => h.checkpointed(group, topic), WAIT).toBe(5);
      expect(calls).toBe(0);
      expect(await effectsOf(group)).toHaveLength(5);
    });

    it('retries a failing handler with growing back-off, then dead-letters it', async () => {
      const { aggregateType, topic, group } = fresh();
      const attempts: Array<{ attempt: number; at: number }> = [];
      await startConsumer({
        group,
        topics: [topic],
        retry: FAST_RETRY,
        handle: async (event, { tx, attempt }) => {
          attempts.push({ attempt, at: performance.now() });
          await recordEffect(tx, group, event);
          if ((event.payload as ProbePayload).n === 0) throw new TransientError('downstream unavailable');
        },
      });
      await publish(aggregateType, [
        { key: 'r', n: 0 },
        { key: 'r', n: 1 },
      ]);
      await expect.poll(async () => (await h.deadLetters(group)).length, WAIT).toBe(1);
      const [letter] = await h.deadLetters(group);
      expect(letter?.attempts).toBe(3);
      expect(letter?.reason).toContain('downstream unavailable');
      const failing = attempts.slice(0, 3);
      expect(failing.map((a) => a.attempt)).toEqual([1, 2, 3]);
      // Equal jitter guarantees half of each exponential step: >= 20 ms, then >= 40 ms.
      const gaps = [failing[1]!.at - failing[0]!.at, failing[2]!.at - failing[1]!.at];
      expect(gaps[0]).toBeGreaterThanOrEqual(19);
      expect(gaps[1]).toBeGreaterThanOrEqual(39);
      // The failed attempts' effects rolled back; the next event of the key still ran.
      await expect.poll(async () => (await effectsOf(group)).map((r) => r.n), WAIT).toEqual([1]);
      await expect.poll(() => h.checkpointed(group, topic), WAIT).toBe(2);
    });

    it('dead-letters contract violations and fatal errors without retrying', async () => {
      const { aggregateType, topic, group } = fresh();
      let calls = 0;
      await startConsumer({
        group,
        topics: [topic],
        retry: FAST_RETRY,
        handle: async (event) => {
          calls += 1;
          if ((event.payload as ProbePayload).n === 7) throw new FatalError('cannot ever apply n=7');
        },
      });
      // Bypass the writer's validation: a producer with an older contract wrote this row.
      await (h.producer.db as unknown as Kysely<KernelTables>)
        .insertInto('outbox')
        .values({
          id: randomUUID(),
          aggregatetype: aggregateType,
          aggregateid: 'bad',
          type: 'probe.happened',
          payload: JSON.stringify({ n: 'not a number' }),
        })
        .execute();
      await publish(aggregateType, [{ key: 'fatal', n: 7 }]);
      await expect.poll(async () => (await h.deadLetters(group)).length, WAIT).toBe(2);
      const letters = await h.deadLetters(group);
      expect(letters.map((l) => l.attempts)).toEqual([1, 1]);
      expect(letters.some((l) => l.reason.includes('contract'))).toBe(true);
      expect(letters.some((l) => l.reason.includes('cannot ever apply n=7'))).toBe(true);
      expect(calls).toBe(1);
      await expect.poll(() => h.checkpointed(group, topic), WAIT).toBe(2);
    });

    it('makes readiness fail, naming the worker, while every event dead-letters; a processed event clears it', async () => {
      const { aggregateType, topic, group } = fresh();
      let broken = true;
      const worker = await startConsumer({
        group,
        topics: [topic],
        retry: FAST_RETRY,
        handle: async (event, { tx }) => {
          // As when the consumer's table is gone: every event fails, none can succeed.
          if (broken) throw new FatalError('relation "contract_effects" is missing');
          await recordEffect(tx, group, event);
        },
      });
      const health = createHealthRegistry();
      health.register(workerHealthCheck(worker));
      const check = `worker:${worker.name}`;
      expect((await health.run()).status).toBe('ok');
      await publish(aggregateType, [{ key: 'a', n: 1 }]);
      await expect.poll(async () => (await h.deadLetters(group)).length, WAIT).toBe(1);
      // One bad event is the event's problem: reported, still ready.
      expect((await health.run()).checks[check]?.status).toBe('degraded');
      await publish(aggregateType, [
        { key: 'b', n: 2 },
        { key: 'c', n: 3 },
      ]);
      await expect.poll(async () => (await h.deadLetters(group)).length, WAIT).toBe(3);
      const report = await health.run();
      expect(report.status).toBe('down');
      expect(report.checks[check]).toMatchObject({ status: 'down' });
      expect(report.checks[check]?.error).toContain('3 consecutive events dead-lettered');
      broken = false;
      await publish(aggregateType, [{ key: 'd', n: 4 }]);
      await expect.poll(async () => (await effectsOf(group)).length, WAIT).toBe(1);
      expect((await health.run()).status).toBe('ok');
    });

    it('never has more events in flight than its concurrency', async () => {
      const { aggregateType, topic, group } = fresh();
      let running = 0;
      let peak = 0;
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const worker = await startConsumer({
        group,
        topics: [topic],
        concurrency: 3,
        handle: async (event, { tx }) => {
          running += 1;
          peak = Math.max(peak, running);
          try {
            await gate;
            await recordEffect(tx, group, event);
          } finally {
            running -= 1;
          }
        },
      });
      await publish(
        aggregateType,
        Array.from({ length: 12 }, (_, n) => ({ key: `k${n}`, n })),
      );
      const parallel = Math.min(3, h.transactionParallelism ?? 3);
      await expect.poll(() => running, WAIT).toBe(parallel);
      // Nine events wait in the log: none of them may start while three are in flight.
      await new Promise((r) => setTimeout(r, 300));
      expect(running).toBe(parallel);
      const detail = worker.health().detail;
      if (detail && 'inFlight' in detail) expect(detail.inFlight).toBe(3);
      if (detail && 'paused' in detail) expect(detail.paused).toBe(true);
      release();
      await expect.poll(async () => (await effectsOf(group)).length, WAIT).toBe(12);
      expect(peak).toBe(parallel);
    });

    it('drains in-flight events and commits the checkpoint on stop', async () => {
      const { aggregateType, topic, group } = fresh();
      let started = 0;
      const worker = await startConsumer({
        group,
        topics: [topic],
        concurrency: 3,
        handle: async (event, { tx }) => {
          started += 1;
          await new Promise((r) => setTimeout(r, 300));
          await recordEffect(tx, group, event);
        },
      });
      await publish(aggregateType, [
        { key: 'a', n: 0 },
        { key: 'b', n: 1 },
        { key: 'c', n: 2 },
      ]);
      await expect.poll(() => started, WAIT).toBeGreaterThanOrEqual(1);
      await worker.stop(Date.now() + 10_000);
      expect(await effectsOf(group)).toHaveLength(3);
      expect(await h.checkpointed(group, topic)).toBe(3);
      expect(worker.health().status).toBe('down');
    });
  });
}
