import { DATABASE_KINDS } from '@nova/kernel/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePostPartitions, monthStart, partitionName } from '../src/store/post-partitions.js';
import { type ContentFixture, openContentFixture } from './support/fixture.js';

describe.each(DATABASE_KINDS)('monthly partitions of posts on %s', (kind) => {
  let f: ContentFixture;
  beforeAll(async () => {
    f = await openContentFixture(kind);
  });
  afterAll(async () => {
    await f?.close();
  });

  const partitions = async () => {
    const { rows } = await sql<{ name: string; bound: string }>`
      SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
        FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace n ON n.oid = p.relnamespace
       WHERE p.relname = 'posts' AND n.nspname = ${f.database.schema}
       ORDER BY 1`.execute(f.database.db);
    return rows;
  };

  it('is range-partitioned with the (author_id, created_at DESC) index on every partition', async () => {
    const { rows } = await sql<{ strategy: string }>`
      SELECT pt.partstrat AS strategy FROM pg_partitioned_table pt
        JOIN pg_class c ON c.oid = pt.partrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relname = 'posts' AND n.nspname = ${f.database.schema}`.execute(f.database.db);
    expect(rows).toEqual([{ strategy: 'r' }]);
    const now = new Date();
    const names = (await partitions()).map((p) => p.name);
    expect(names).toContain('posts_default');
    expect(names).toContain(partitionName(monthStart(now, 0)));
    const { rows: indexes } = await sql<{ def: string }>`
      SELECT indexdef AS def FROM pg_indexes
       WHERE schemaname = ${f.database.schema} AND tablename = ${partitionName(monthStart(now, 0))}`.execute(
      f.database.db,
    );
    expect(indexes.some((i) => /\(author_id, created_at DESC, id DESC\)/.test(i.def))).toBe(true);
  });

  it('puts a new post in its month’s partition', async () => {
    const post = await f.content.posts.create(f.social.addUser(), { text: 'where am I' });
    const { rows } = await sql<{ part: string }>`
      SELECT tableoid::regclass::text AS part FROM ${sql.table(`${f.database.schema}.posts`)} WHERE id = ${post.id}`.execute(
      f.database.db,
    );
    expect(rows[0]?.part).toMatch(new RegExp(`${partitionName(monthStart(new Date(post.createdAt), 0))}$`));
  });

  it('creates the coming months ahead, once, and months far ahead only when asked', async () => {
    const later = new Date(Date.UTC(2031, 10, 15));
    const created = await ensurePostPartitions(f.database.db, later, 3);
    expect(created).toEqual(['posts_2031_11', 'posts_2031_12', 'posts_2032_01', 'posts_2032_02']);
    expect(await ensurePostPartitions(f.database.db, later, 3)).toEqual([]);
    const bounds = (await partitions()).find((p) => p.name === 'posts_2031_12')?.bound ?? '';
    expect(bounds).toContain('2031-12-01');
    expect(bounds).toContain('2032-01-01');
  });
});
