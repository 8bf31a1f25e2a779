import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOutboxWriter, type Database, type Logger, runMigrations } from '@nova/kernel';
import type { KafkaMessage } from 'kafkajs';
import { sql } from 'kysely';
import { headerText, type KafkaEventLog } from '../src/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

/** A service schema with the kernel tables (outbox, processed_events, …) and nothing else. */
export async function openKernelSchema<DB = unknown>(
  provider: { open<T>(service: string): Promise<Database<T>> },
  schema: string,
  logger: Logger,
): Promise<Database<DB>> {
  const database = await provider.open<DB>(schema);
  await runMigrations(database, path.join(repoRoot, 'no-service-migrations'), logger);
  return database;
}

export async function countRows(database: Database<unknown>, table: string): Promise<number> {
  const { rows } = await sql<{
    n: number;
  }>`select count(*)::int as n from ${sql.id(database.schema, table)}`.execute(database.db);
  return rows[0]?.n ?? 0;
}

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string;
  id: string;
  type: string;
  headers: Record<string, string>;
  value: unknown;
}

/** Every record on `topic` up to its current end, read by a throwaway group. */
export async function readTopic(log: KafkaEventLog, topic: string): Promise<ReadRecord[]> {
  const admin = await log.admin();
  const ends = await admin.fetchTopicOffsets(topic);
  const total = ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  const records: ReadRecord[] = [];
  if (total === 0) return records;
  const consumer = log.kafka.consumer({
    groupId: `reader.${topic}.${Math.random().toString(36).slice(2)}`,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${records.length}/${total} of ${topic}`)),
        60_000,
      );
      void consumer.run({
        eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
          const headers: Record<string, string> = {};
          for (const name of Object.keys(message.headers ?? {}))
            headers[name] = headerText(message.headers, name) ?? '';
          records.push({
            partition,
            offset: message.offset,
            key: message.key?.toString('utf8') ?? '',
            id: headers.id ?? '',
            type: headers.type ?? '',
            headers,
            value: message.value ? JSON.parse(message.value.toString('utf8')) : null,
          });
          if (records.length >= total) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true or `timeoutMs` passes (then throws with `what`). */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const acceptAll = createOutboxWriter(() => undefined);

/**
 * Writes `count` `item.made` events numbered from `from` to the database's
 * outbox, in transactions of `batch`, spread over `keys` aggregate ids.
 */
export async function writeEvents<DB>(
  database: Database<DB>,
  aggregateType: string,
  from: number,
  count: number,
  options: { keys?: number; batch?: number } = {},
): Promise<void> {
  const keys = options.keys ?? 7;
  const batch = options.batch ?? 50;
  for (let start = from; start < from + count; start += batch) {
    const n = Math.min(batch, from + count - start);
    await database.transaction((tx) =>
      acceptAll.write(
        tx,
        Array.from({ length: n }, (_, i) => ({
          aggregateType,
          aggregateId: `k${(start + i) % keys}`,
          type: 'item.made',
          payload: { n: start + i },
        })),
      ),
    );
  }
}
