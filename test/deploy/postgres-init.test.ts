import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DEPLOY } from './manifests.js';

/**
 * deploy/postgres-init.sh (+ .sql), the first-start script of the compose and
 * Kubernetes PostgreSQL, run for real against the test server: a role and a
 * database per <SERVICE>_DATABASE_URL, each role shut out of the others.
 */
const run = promisify(execFile);
const ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const tag = `zz_deploy_${randomBytes(3).toString('hex')}`;
const services = ['one', 'two'].map((s) => ({
  user: `${tag}_${s}`,
  db: `${tag}_${s}_db`,
  password: randomBytes(12).toString('hex'),
}));
const env = Object.fromEntries(
  services.map((s, i) => [
    `S${i}_DATABASE_URL`,
    `postgres://${s.user}:${s.password}@postgres:5432/${s.db}?sslmode=disable`,
  ]),
);
const script = fileURLToPath(new URL('postgres-init.sh', DEPLOY));
const init = (extra: Record<string, string>) =>
  run('sh', [script], {
    env: { PATH: process.env.PATH, PGHOST: '127.0.0.1', POSTGRES_USER: 'postgres', ...extra },
  });

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  for (const s of services) {
    await query(ADMIN, `drop database if exists "${s.db}"`);
    await query(ADMIN, `drop role if exists "${s.user}"`);
  }
});

describe('deploy/postgres-init.sh', () => {
  it('creates each service’s role and database from its URL, only the owner may connect, and runs again safely', async () => {
    const first = await init(env);
    expect(first.stdout).toContain(`${services[0]?.db} (role ${services[0]?.user}) from S0_DATABASE_URL`);
    await init(env); // a restore or a new service runs it over existing ones
    for (const [i, s] of services.entries()) {
      const owner = await query<{ owner: string }>(
        ADMIN,
        'select pg_get_userbyid(datdba) as owner from pg_database where datname = $1',
        [s.db],
      );
      expect(owner).toEqual([{ owner: s.user }]);
      // The owner creates its schema there (what `nova migrate` does first).
      await query(`postgres://${s.user}@127.0.0.1:5432/${s.db}`, 'create schema if not exists svc');
      const other = services[1 - i] as (typeof services)[number];
      await expect(query(`postgres://${s.user}@127.0.0.1:5432/${other.db}`, 'select 1')).rejects.toThrow(
        /permission denied for database/,
      );
    }
  });

  it('refuses a URL without credentials or database, and an environment without any', async () => {
    await expect(init({ X_DATABASE_URL: 'postgres://postgres:5432/' })).rejects.toThrow(
      /is not postgres:\/\/user:password@host\/db/,
    );
    await expect(init({})).rejects.toThrow(/no \*_DATABASE_URL/);
  });
});
