import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { executeRaw } from '../../src/db/raw-statement.js';
import { schemaOf } from '../../src/db/schema-of.js';
import { tableRefs } from '../../src/db/table-refs.js';
import { inTransaction, isRetryableTransactionError } from '../../src/db/transaction.js';
import { DATABASE_KINDS, openTestDatabases, type TestDatabases } from '../../src/testing/databases.js';

interface Tables {
  counters: { id: number; n: number };
}

describe.each(DATABASE_KINDS)('kernel transactions on %s', (kind) => {
  let dbs: TestDatabases;
  let database: Database<Tables>;

  beforeAll(async () => {
    dbs = await openTestDatabases(kind);
    database = await dbs.provider.open<Tables>('txn');
    await sql`create schema txn`.execute(database.db);
    await sql`create table txn.counters (id int primary key, n int not null)`.execute(database.db);
  });
  afterAll(() => dbs?.close());

  const reset = async () => {
    await database.db.deleteFrom('counters').execute();
    await database.db
      .insertInto('counters')
      .values([
        { id: 1, n: 0 },
        { id: 2, n: 0 },
      ])
      .execute();
  };
  const counts = async () =>
    (await database.db.selectFrom('counters').select(['id', 'n']).orderBy('id').execute()).map((r) => r.n);

  it('commits once and gives back the result', async () => {
    await reset();
    const result = await inTransaction(database, async (tx) => {
      await tx.updateTable('counters').set({ n: 5 }).where('id', '=', 1).execute();
      return 'done';
    });
    expect(result).toBe('done');
    expect(await counts()).toEqual([5, 0]);
  });

  it('does not retry other failures, and rolls them back', async () => {
    await reset();
    let runs = 0;
    const failing = inTransaction(database, async (tx) => {
      runs++;
      await tx.updateTable('counters').set({ n: 9 }).where('id', '=', 1).execute();
      await tx.insertInto('counters').values({ id: 2, n: 1 }).execute(); // duplicate key
    });
    await expect(failing).rejects.toMatchObject({ code: '23505' });
    expect(runs).toBe(1);
    expect(await counts()).toEqual([0, 0]);
  });

  it('quotes its schema in raw SQL references', async () => {
    const refs = tableRefs(database.db, ['counters']);
    expect(refs.schemaPrefix).toBe('txn.');
    const rows = await sql<{ n: number }>`select n from ${refs.counters} where id = 1`.execute(database.db);
    expect(rows.rows).toHaveLength(1);
  });

  it('runs a raw statement without plugins inside the transaction it is given', async () => {
    await reset();
    const refs = tableRefs(database.db, ['counters']);
    const failing = inTransaction(database, async (tx) => {
      await executeRaw(sql`update ${refs.counters} set n = 7 where id = 1`, tx);
      // The plain copy used the transaction's connection: the transaction sees its own write.
      const seen = await tx.selectFrom('counters').select('n').where('id', '=', 1).executeTakeFirstOrThrow();
      expect(seen.n).toBe(7);
      throw new Error('roll back');
    });
    await expect(failing).rejects.toThrow('roll back');
    expect(await counts()).toEqual([0, 0]);
    const { rows } = await executeRaw(
      sql<{ n: number }>`select n from ${refs.counters} where id = 2`,
      database.db,
    );
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('answers the schema of each instance and transaction, remembered per plugin chain', async () => {
    const names = ['counters'] as const;
    const other = database.db.withSchema('elsewhere');
    const unscoped = database.db.withoutPlugins();
    for (let round = 0; round < 2; round++) {
      expect(schemaOf(database.db as never)).toBe('txn');
      expect(schemaOf(other as never)).toBe('elsewhere');
      expect(schemaOf(unscoped as never)).toBeUndefined();
      expect(tableRefs<Tables, 'counters'>(other, names).schemaPrefix).toBe('elsewhere.');
      expect(tableRefs<Tables, 'counters'>(unscoped, names).schemaPrefix).toBe('');
      await database.transaction(async (tx) => {
        expect(schemaOf(tx as never)).toBe('txn');
        const refs = tableRefs<Tables, 'counters'>(tx, names);
        expect(refs.schemaPrefix).toBe('txn.');
        // The same references for every transaction: built once.
        expect(refs).toBe(tableRefs<Tables, 'counters'>(database.db, names));
        await sql`update ${refs.counters} set n = n where id = 1`.execute(tx);
      });
    }
  });

  it.runIf(kind === 'postgres')(
    'runs a deadlock victim again: both crossing transactions take effect',
    async () => {
      await reset();
      const runs = { a: 0, b: 0 };
      // Each transaction locks one row, waits until the other holds the other row, then asks for it.
      let arrived = 0;
      let release!: () => void;
      const bothLocked = new Promise<void>((resolve) => {
        release = resolve;
      });
      const crossing = (name: 'a' | 'b', first: number, second: number) =>
        inTransaction(database, async (tx) => {
          runs[name]++;
          await tx.updateTable('counters').set({ n: sql`n + 1` }).where('id', '=', first).execute();
          if (runs[name] === 1) {
            arrived++;
            if (arrived === 2) release();
            await bothLocked;
          }
          await tx.updateTable('counters').set({ n: sql`n + 1` }).where('id', '=', second).execute();
        });
      await Promise.all([crossing('a', 1, 2), crossing('b', 2, 1)]);
      // PostgreSQL aborted exactly one of them (40P01); it ran again after the other committed.
      expect(runs.a + runs.b).toBe(3);
      expect(await counts()).toEqual([2, 2]);
    },
  );
});

describe('retryable transaction errors', () => {
  it('are deadlocks and serialization failures only', () => {
    expect(isRetryableTransactionError({ code: '40P01' })).toBe(true);
    expect(isRetryableTransactionError({ code: '40001' })).toBe(true);
    expect(isRetryableTransactionError({ code: '23505' })).toBe(false);
    expect(isRetryableTransactionError(new Error('boom'))).toBe(false);
  });
});
