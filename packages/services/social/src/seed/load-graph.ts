import type { Population } from '@nova/contracts/seed';
import { ConflictError, connectRaw, type Database, dropStructure, restoreStructure } from '@nova/kernel';
import { sql } from 'kysely';
import type { SocialTables } from '../store/tables.js';
import { tablesOf } from '../store/tables-of.js';
import { copyFollows, copyProfiles } from './copy-loader.js';

export interface LoadGraphOptions {
  /** PostgreSQL only: a URL for a raw connection, enabling COPY. Without it, batched INSERTs. */
  postgresUrl?: string;
  /** Posts per user of the seeded posts (content loads them): the profiles' postCount. */
  postCounts?: Uint32Array;
  onProgress?(done: number, total: number): void;
}

export interface LoadGraphResult {
  users: number;
  follows: number;
  method: 'copy' | 'insert';
  /** Milliseconds per phase ("counts": counting the generated graph in memory). */
  timings: { counts: number; profiles: number; follows: number; indexes: number; total: number };
}

const INSERT_BATCH = 5_000;

/**
 * Bulk-loads a generated population's profiles and follow graph. Meant for an
 * offline `nova seed` into a database where these users do not exist yet:
 * no events are published (consumers would otherwise replay millions of
 * follows). On PostgreSQL with `postgresUrl` it uses COPY in one transaction,
 * rebuilding the follow indexes afterwards when the load dwarfs the table.
 * Counters are computed from the generated graph in memory and written with
 * the profiles: a GROUP BY over millions of loaded edges measured slower.
 */
export async function loadSocialGraph(
  database: Database<SocialTables>,
  population: Population,
  options: LoadGraphOptions = {},
): Promise<LoadGraphResult> {
  const existing = await database.db
    .selectFrom('profiles')
    .select('id')
    .where('id', '=', population.userId(0))
    .executeTakeFirst();
  if (existing) throw new ConflictError('already_seeded', 'This population is already loaded.');
  const users = population.options.users;
  const total = users + population.followCount;
  let done = 0;
  const progress = (rows: number) => {
    done += rows;
    options.onProgress?.(done, total);
  };
  if (database.dialect === 'postgres' && options.postgresUrl) {
    return loadWithCopy(database.schema, options.postgresUrl, population, options.postCounts, progress);
  }
  return loadWithInserts(database, population, options.postCounts, progress);
}

async function loadWithCopy(
  schema: string,
  postgresUrl: string,
  population: Population,
  postCounts: Uint32Array | undefined,
  progress: (rows: number) => void,
): Promise<LoadGraphResult> {
  const started = performance.now();
  const timings = { counts: 0, profiles: 0, follows: 0, indexes: 0, total: 0 };
  const ids = Array.from({ length: population.options.users }, (_, i) => population.userId(i));
  let mark = performance.now();
  population.counts();
  timings.counts = performance.now() - mark;
  const client = await connectRaw(postgresUrl, schema);
  try {
    await client.query('BEGIN');
    mark = performance.now();
    await copyProfiles(client, population, postCounts, progress);
    timings.profiles = performance.now() - mark;

    mark = performance.now();
    const { rows } = await client.query<{ base: string; present: string }>(
      `SELECT nextval(pg_get_serial_sequence('follows', 'seq'))::text AS base,
              (SELECT count(*) FROM (SELECT 1 FROM follows LIMIT $1) AS s)::text AS present`,
      [population.followCount],
    );
    const base = BigInt(rows[0]?.base ?? '0');
    const present = Number(rows[0]?.present ?? 0);
    const dropped = present < population.followCount ? await dropStructure(client, 'follows') : null;
    if (present === 0) await client.query('TRUNCATE follows');
    await copyFollows(client, population, ids, base + 1n, progress, present === 0);
    await client.query(`SELECT setval(pg_get_serial_sequence('follows', 'seq'), $1)`, [
      (base + BigInt(population.followCount)).toString(),
    ]);
    timings.follows = performance.now() - mark;

    mark = performance.now();
    if (dropped) await restoreStructure(client, 'follows', dropped);
    timings.indexes = performance.now() - mark;
    await client.query('COMMIT');
    await client.query('ANALYZE profiles');
    await client.query('ANALYZE follows');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
  timings.total = performance.now() - started;
  return {
    users: population.options.users,
    follows: population.followCount,
    method: 'copy',
    timings: round(timings),
  };
}

async function loadWithInserts(
  database: Database<SocialTables>,
  population: Population,
  postCounts: Uint32Array | undefined,
  progress: (rows: number) => void,
): Promise<LoadGraphResult> {
  const started = performance.now();
  const timings = { counts: 0, profiles: 0, follows: 0, indexes: 0, total: 0 };
  const ids = Array.from({ length: population.options.users }, (_, i) => population.userId(i));
  let mark = performance.now();
  const { followers: followerCounts, following: followingCounts } = population.counts();
  timings.counts = performance.now() - mark;
  await database.transaction(async (tx) => {
    const t = tablesOf(tx);
    const followsTable = `${t.schemaPrefix}follows`;
    mark = performance.now();
    for (const chunk of population.userChunks(INSERT_BATCH)) {
      await sql`
        INSERT INTO ${t.profiles} (id, username, created_at, follower_count, following_count, post_count)
        SELECT * FROM unnest(${chunk.map((u) => u.id)}::text[], ${chunk.map((u) => u.username)}::text[],
                             ${chunk.map((u) => u.createdAt)}::timestamptz[],
                             ${chunk.map((u) => followerCounts[u.index] ?? 0)}::int[],
                             ${chunk.map((u) => followingCounts[u.index] ?? 0)}::int[],
                             ${chunk.map((u) => postCounts?.[u.index] ?? 0)}::int[])`.execute(tx);
      progress(chunk.length);
    }
    timings.profiles = performance.now() - mark;

    mark = performance.now();
    const { rows } = await sql<{ base: string }>`
      SELECT nextval(pg_get_serial_sequence(${followsTable}, 'seq'))::text AS base`.execute(tx);
    const base = BigInt(rows[0]?.base ?? '0');
    let seq = base;
    for (const chunk of population.followChunks(INSERT_BATCH)) {
      const followers: string[] = [];
      const followees: string[] = [];
      const seqs: string[] = [];
      for (let i = 0; i < chunk.length; i++) {
        followers.push(ids[chunk.followers[i] as number] as string);
        followees.push(ids[chunk.followees[i] as number] as string);
        seq += 1n;
        seqs.push(seq.toString());
      }
      await sql`
        INSERT INTO ${t.follows} (follower_id, followee_id, seq)
        SELECT * FROM unnest(${followers}::text[], ${followees}::text[], ${seqs}::bigint[])`.execute(tx);
      progress(chunk.length);
    }
    await sql`SELECT setval(pg_get_serial_sequence(${followsTable}, 'seq'), ${seq.toString()}::bigint)`.execute(
      tx,
    );
    timings.follows = performance.now() - mark;
  });
  timings.total = performance.now() - started;
  return {
    users: population.options.users,
    follows: population.followCount,
    method: 'insert',
    timings: round(timings),
  };
}

function round<T extends Record<string, number>>(timings: T): T {
  return Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])) as T;
}
