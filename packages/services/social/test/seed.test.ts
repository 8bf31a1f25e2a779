import { generatePopulation } from '@nova/contracts/seed';
import { ConflictError, type Database } from '@nova/kernel';
import { DATABASE_KINDS, openMigratedDatabase, type TestDatabases } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOCIAL_MIGRATIONS_DIR } from '../src/index.js';
import { loadSocialGraph } from '../src/seed/load-graph.js';
import type { SocialTables } from '../src/store/tables.js';
import { tablesOf } from '../src/store/tables-of.js';

describe.each(DATABASE_KINDS)('seed loader on %s', (kind) => {
  let dbs: TestDatabases;
  let database: Database<SocialTables>;
  beforeAll(async () => {
    ({ dbs, database } = await openMigratedDatabase<SocialTables>(kind, 'social', SOCIAL_MIGRATIONS_DIR));
  });
  afterAll(async () => {
    await dbs?.close();
  });

  it('loads profiles and follows with counters matching the edges, and refuses a second load', async () => {
    const population = generatePopulation({ users: 400, seed: 3, avgFollows: 15 });
    const progress: number[] = [];
    const result = await loadSocialGraph(database, population, {
      postgresUrl: dbs.config.database.defaultUrl,
      onProgress: (done) => progress.push(done),
    });
    expect(result).toMatchObject({ users: 400, follows: population.followCount });
    expect(result.method).toBe(kind === 'postgres' ? 'copy' : 'insert');
    expect(progress.at(-1)).toBe(400 + population.followCount);

    const t = tablesOf(database.db);
    const { rows } = await sql<{ edges: number; wrong: number; idx: number }>`
      SELECT (SELECT count(*) FROM ${t.follows})::int AS edges,
             (SELECT count(*) FROM ${t.profiles} p
               WHERE p.follower_count <> (SELECT count(*) FROM ${t.follows} f WHERE f.followee_id = p.id)
                  OR p.following_count <> (SELECT count(*) FROM ${t.follows} f WHERE f.follower_id = p.id))::int AS wrong,
             (SELECT count(*) FROM pg_indexes WHERE schemaname = ${database.schema} AND tablename = 'follows')::int AS idx`.execute(
      database.db,
    );
    expect(rows[0]).toEqual({ edges: population.followCount, wrong: 0, idx: 3 });
    await expect(loadSocialGraph(database, population)).rejects.toBeInstanceOf(ConflictError);

    // The graph stays usable: a new edge gets a sequence after the loaded ones.
    const { rows: seqs } = await sql<{ ok: boolean }>`
      SELECT nextval(pg_get_serial_sequence(${`${database.schema}.follows`}, 'seq')) > (SELECT max(seq) FROM ${t.follows}) AS ok`.execute(
      database.db,
    );
    expect(seqs[0]?.ok).toBe(true);
  });
});
