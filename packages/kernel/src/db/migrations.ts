import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Kysely, sql } from 'kysely';
import { FatalError } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import type { Database } from './database.js';
import { KERNEL_MIGRATIONS } from './kernel-migrations.js';

interface Migration {
  version: string;
  name: string;
  sql: string;
  checksum: string;
}

interface AppliedRow {
  version: string;
  name: string;
  checksum: string;
}

const FILE_PATTERN = /^(\d+)-([a-z0-9][a-z0-9-_]*)\.sql$/;

/**
 * Brings a service schema up to date: the kernel tables first, then the
 * service's `NNN-name.sql` files in order, each in its own transaction with
 * search_path set to the schema. Forward-only: a recorded migration whose
 * file disappeared or changed stops the run. Concurrent migrators (several
 * processes starting at once) serialize on an advisory lock per schema.
 */
export async function runMigrations<DB>(
  service: Database<DB>,
  migrationsDir: string,
  logger: Logger,
): Promise<{ applied: string[] }> {
  // Only raw, schema-qualified SQL runs here: the table types do not matter.
  const database = service as unknown as Database<unknown>;
  const schema = database.schema;
  const migrations = [
    ...KERNEL_MIGRATIONS.map((m) => ({ ...m, checksum: checksum(m.sql) })),
    ...(await readServiceMigrations(migrationsDir)),
  ];
  const lockKey = `nova.migrations.${schema}`;

  await database.db.transaction().execute(async (tx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${lockKey}))`.execute(tx);
    await sql`create schema if not exists ${sql.id(schema)}`.execute(tx);
    await sql`create table if not exists ${sql.id(schema, 'schema_migrations')} (
      version text primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now()
    )`.execute(tx);
  });

  const applied: string[] = [];
  verify(schema, migrations, await recorded(database.db, schema));
  for (const migration of migrations) {
    const done = await database.db.transaction().execute(async (tx) => {
      await sql`select pg_advisory_xact_lock(hashtext(${lockKey}))`.execute(tx);
      // Re-read under the lock: another migrator may have applied it meanwhile.
      const rows = await recorded(tx, schema);
      verify(schema, migrations, rows);
      if (rows.some((r) => r.version === migration.version)) return false;
      await sql`set local search_path to ${sql.id(schema)}`.execute(tx);
      try {
        await sql.raw(migration.sql).execute(tx);
      } catch (error) {
        throw new FatalError(`migration ${schema}/${migration.version}-${migration.name} failed`, {
          cause: error,
        });
      }
      await sql`insert into ${sql.id(schema, 'schema_migrations')} (version, name, checksum)
        values (${migration.version}, ${migration.name}, ${migration.checksum})`.execute(tx);
      return true;
    });
    if (done) {
      applied.push(`${migration.version}-${migration.name}`);
      logger.info({ schema, version: migration.version, name: migration.name }, 'migration applied');
    }
  }
  return { applied };
}

async function readServiceMigrations(dir: string): Promise<Migration[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const migrations: Migration[] = [];
  const seen = new Map<string, string>();
  for (const file of entries.filter((f) => f.endsWith('.sql')).sort()) {
    const match = FILE_PATTERN.exec(file);
    if (!match?.[1] || !match[2])
      throw new FatalError(`migration file "${file}" in ${dir} is not named NNN-name.sql`);
    const version = match[1];
    const other = seen.get(version);
    if (other) throw new FatalError(`migrations "${other}" and "${file}" in ${dir} share version ${version}`);
    seen.set(version, file);
    const text = await readFile(path.join(dir, file), 'utf8');
    migrations.push({ version, name: match[2], sql: text, checksum: checksum(text) });
  }
  return migrations;
}

async function recorded(db: Kysely<unknown>, schema: string): Promise<AppliedRow[]> {
  const result =
    await sql<AppliedRow>`select version, name, checksum from ${sql.id(schema, 'schema_migrations')}`.execute(
      db,
    );
  return result.rows;
}

function verify(schema: string, migrations: Migration[], rows: AppliedRow[]): void {
  const known = new Map(migrations.map((m) => [m.version, m]));
  for (const row of rows) {
    const migration = known.get(row.version);
    if (!migration) {
      throw new FatalError(
        `schema "${schema}" has migration ${row.version}-${row.name} applied but its file is missing; migrations are forward-only`,
      );
    }
    if (migration.checksum !== row.checksum) {
      throw new FatalError(
        `migration ${schema}/${row.version}-${row.name} was changed after it was applied (checksum mismatch); add a new migration instead`,
      );
    }
  }
}

function checksum(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
