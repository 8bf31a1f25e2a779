import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { KERNEL_MIGRATIONS } from '../../src/db/kernel-migrations.js';
import { runMigrations } from '../../src/db/migrations.js';
import { FatalError } from '../../src/errors/errors.js';
import { createLogger } from '../../src/logging/logger.js';
import { DATABASE_KINDS, openTestDatabases, type TestDatabases } from '../../src/testing/databases.js';

const logger = createLogger('silent');
// Every service schema gets the kernel's tables first, whatever their number.
const kernelApplied = KERNEL_MIGRATIONS.map((m) => `${m.version}-${m.name}`);
const kernelVersions = KERNEL_MIGRATIONS.map((m) => m.version);

describe.each(DATABASE_KINDS)('migrations on %s', (kind) => {
  let dbs: TestDatabases;
  let dir: string;

  beforeAll(async () => {
    dbs = await openTestDatabases(kind);
    dir = await mkdtemp(path.join(os.tmpdir(), 'nova-migrations-'));
  });
  afterAll(async () => {
    await dbs.close();
    await rm(dir, { recursive: true, force: true });
  });

  const tables = async (database: Database<unknown>) => {
    const result = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = ${database.schema} order by table_name`.execute(
      database.db,
    );
    return result.rows.map((r) => r.table_name);
  };

  it('creates the schema, the kernel tables and the service tables, in order', async () => {
    const database = await dbs.provider.open<unknown>('svc_a');
    await writeFile(
      path.join(dir, '001-widgets.sql'),
      'CREATE TABLE widgets (id int PRIMARY KEY);\nCREATE INDEX widgets_id ON widgets (id);',
    );
    await writeFile(path.join(dir, '002-widget-names.sql'), 'ALTER TABLE widgets ADD COLUMN name text;');
    const { applied } = await runMigrations(database, dir, logger);
    expect(kernelApplied.slice(0, 2)).toEqual(['kernel-001-outbox', 'kernel-002-consumer-state']);
    expect(applied).toEqual([...kernelApplied, '001-widgets', '002-widget-names']);
    expect(await tables(database)).toEqual([
      'consumer_backfills',
      'consumer_key_positions',
      'consumer_offsets',
      'dead_letters',
      'outbox',
      'processed_events',
      'schema_migrations',
      'widgets',
    ]);
    await sql`insert into svc_a.widgets (id, name) values (1, 'one')`.execute(database.db);
  });

  it('applies nothing on a second run and only new files later', async () => {
    const database = await dbs.provider.open<unknown>('svc_a');
    expect((await runMigrations(database, dir, logger)).applied).toEqual([]);
    await writeFile(path.join(dir, '003-gadgets.sql'), 'CREATE TABLE gadgets (id int PRIMARY KEY);');
    expect((await runMigrations(database, dir, logger)).applied).toEqual(['003-gadgets']);
  });

  it('refuses a migration changed after it was applied', async () => {
    const database = await dbs.provider.open<unknown>('svc_a');
    await writeFile(path.join(dir, '002-widget-names.sql'), 'ALTER TABLE widgets ADD COLUMN label text;');
    const run = runMigrations(database, dir, logger);
    await expect(run).rejects.toBeInstanceOf(FatalError);
    await expect(runMigrations(database, dir, logger)).rejects.toThrow(/changed after it was applied/);
    await writeFile(path.join(dir, '002-widget-names.sql'), 'ALTER TABLE widgets ADD COLUMN name text;');
  });

  it('refuses when an applied migration file is missing', async () => {
    const database = await dbs.provider.open<unknown>('svc_a');
    await rm(path.join(dir, '003-gadgets.sql'));
    await expect(runMigrations(database, dir, logger)).rejects.toThrow(/file is missing/);
  });

  it('rolls back a failing migration entirely and records nothing', async () => {
    const database = await dbs.provider.open<unknown>('svc_b');
    const badDir = await mkdtemp(path.join(os.tmpdir(), 'nova-migrations-bad-'));
    await writeFile(
      path.join(badDir, '001-half.sql'),
      'CREATE TABLE half (id int);\nSELECT * FROM no_such_table;',
    );
    await expect(runMigrations(database, badDir, logger)).rejects.toBeInstanceOf(FatalError);
    expect(await tables(database)).not.toContain('half');
    const versions = await sql<{ version: string }>`select version from svc_b.schema_migrations`.execute(
      database.db,
    );
    expect(versions.rows.map((r) => r.version)).toEqual(kernelVersions);
    await rm(badDir, { recursive: true, force: true });
  });

  it('serializes concurrent migrators and treats a missing directory as no migrations', async () => {
    const database = await dbs.provider.open<unknown>('svc_c');
    const results = await Promise.all([
      runMigrations(database, path.join(dir, 'absent'), logger),
      runMigrations(database, path.join(dir, 'absent'), logger),
    ]);
    expect(results.flatMap((r) => r.applied).sort()).toEqual([...kernelApplied].sort());
  });
});
