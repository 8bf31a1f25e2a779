import { type Generated, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { DATABASE_KINDS, openTestDatabases, type TestDatabases } from '../../src/testing/databases.js';

interface Tables {
  items: { id: number; name: string; big: Generated<number> };
}

describe.each(DATABASE_KINDS)('database provider on %s', (kind) => {
  let dbs: TestDatabases;
  let alpha: Database<Tables>;
  let beta: Database<Tables>;

  beforeAll(async () => {
    dbs = await openTestDatabases(kind);
    alpha = await dbs.provider.open<Tables>('alpha');
    beta = await dbs.provider.open<Tables>('beta');
    for (const schema of ['alpha', 'beta']) {
      await sql`create schema ${sql.id(schema)}`.execute(alpha.db);
      await sql`create table ${sql.id(schema, 'items')} (id int primary key, name text not null, big bigint not null default 0)`.execute(
        alpha.db,
      );
    }
  });
  afterAll(() => dbs.close());

  it('reports its dialect and answers ping', async () => {
    expect(alpha.dialect).toBe(kind);
    expect(alpha.schema).toBe('alpha');
    await alpha.ping();
    expect(await dbs.provider.open('alpha')).toBe(alpha);
  });

  it.runIf(kind === 'postgres')(
    'runs without JIT (per-execution compile costs more than OLTP statements)',
    async () => {
      const { rows } = await sql<{ jit: string }>`show jit`.execute(alpha.db);
      expect(rows[0]?.jit).toBe('off');
    },
  );

  it('scopes unqualified table names to the service schema', async () => {
    await alpha.db.insertInto('items').values({ id: 1, name: 'in alpha' }).execute();
    await beta.db.insertInto('items').values({ id: 1, name: 'in beta' }).execute();
    expect(await alpha.db.selectFrom('items').select('name').execute()).toEqual([{ name: 'in alpha' }]);
    const raw = await sql<{ name: string }>`select name from beta.items`.execute(alpha.db);
    expect(raw.rows).toEqual([{ name: 'in beta' }]);
  });

  it('rolls a failed transaction back and commits a good one', async () => {
    await expect(
      alpha.transaction(async (tx) => {
        await tx.insertInto('items').values({ id: 10, name: 'doomed' }).execute();
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await alpha.db.selectFrom('items').where('id', '=', 10).selectAll().execute()).toEqual([]);
    await alpha.transaction((tx) => tx.insertInto('items').values({ id: 11, name: 'kept' }).execute());
    expect(await alpha.db.selectFrom('items').where('id', '=', 11).select('name').execute()).toEqual([
      { name: 'kept' },
    ]);
  });

  it('keeps concurrent transactions apart', async () => {
    // On PGlite one session is shared: without the mutex the second BEGIN would nest into the first.
    await Promise.all(
      [20, 21, 22].map((id) =>
        alpha
          .transaction(async (tx) => {
            await tx
              .insertInto('items')
              .values({ id, name: `tx${id}` })
              .execute();
            await new Promise((r) => setTimeout(r, 5));
            if (id === 21) throw new Error('only this one fails');
          })
          .catch(() => undefined),
      ),
    );
    const ids = await alpha.db.selectFrom('items').where('id', '>=', 20).select('id').orderBy('id').execute();
    expect(ids.map((r) => r.id)).toEqual([20, 22]);
  });

  it('counts queries and reports affected rows', async () => {
    const before = alpha.stats.queries;
    const result = await alpha.db
      .updateTable('items')
      .set({ name: 'renamed' })
      .where('id', 'in', [20, 22])
      .executeTakeFirst();
    expect(result.numUpdatedRows).toBe(2n);
    expect(alpha.stats.queries).toBe(before + 1);
  });

  it('returns int8 as a number on both databases', async () => {
    await alpha.db.updateTable('items').set({ big: 9_007_199_254 }).where('id', '=', 1).execute();
    const row = await alpha.db
      .selectFrom('items')
      .select((eb) => ['big', eb.fn.countAll().as('n')])
      .where('id', '=', 1)
      .groupBy('big')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ big: 9_007_199_254, n: 1 });
  });

  it('delivers NOTIFY after commit to listeners', async () => {
    const received: string[] = [];
    const unlisten = await alpha.listen?.('nova_test_channel', (payload) => received.push(payload));
    await alpha.transaction(async (tx) => {
      await sql`select pg_notify('nova_test_channel', 'hello')`.execute(tx);
      await new Promise((r) => setTimeout(r, 50));
      expect(received).toEqual([]);
    });
    await expect.poll(() => received, { timeout: 2000 }).toEqual(['hello']);
    await unlisten?.();
  });
});
