import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withNamedStatements } from '../../src/db/named-statements.js';
import { openTestDatabases } from '../../src/testing/index.js';

describe('named prepared statements (PostgreSQL)', () => {
  let close: () => Promise<void>;
  let url: string;
  beforeAll(async () => {
    const opened = await openTestDatabases('postgres');
    close = opened.close;
    url = opened.config.database.defaultUrl as string;
  });
  afterAll(async () => close());

  it('prepares parameterized queries once per connection and leaves parameterless ones unnamed', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const client = withNamedStatements(await pool.connect());
      for (let i = 0; i < 3; i++) {
        const { rows } = await client.query('SELECT $1::int + 1 AS n', [i]);
        expect(rows[0].n).toBe(i + 1);
      }
      // Several commands in one parameterless call must still work (migrations do this).
      await client.query('SELECT 1; SELECT 2');
      const { rows } = await client.query<{ name: string }>('SELECT name FROM pg_prepared_statements');
      expect(rows.map((r) => r.name)).toEqual([expect.stringMatching(/^nova_/)]);
      client.release();
    } finally {
      await pool.end();
    }
  });
});
