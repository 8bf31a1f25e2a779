import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * Helpers for offline bulk loads (`nova seed` hooks) on PostgreSQL: a raw
 * connection on a service's schema, COPY from generated lines, and dropping a
 * table's indexes for the load and building them back by sorting afterwards.
 */

const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** A raw connection on the service's schema: COPY is not something Kysely speaks. */
export async function connectRaw(postgresUrl: string, schema: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  await client.query(`SET search_path TO ${quoteIdent(schema)}`);
  // A bulk load of generated data: losing it in a crash only means seeding again.
  await client.query('SET synchronous_commit TO off');
  await client.query("SET maintenance_work_mem TO '1GB'");
  await client.query('SET max_parallel_maintenance_workers TO 2');
  return client;
}

/** Streams text-format COPY lines (tab-separated, newline-terminated) into `statement`. */
export async function copyLines(
  client: pg.Client,
  statement: string,
  lines: Iterable<string>,
): Promise<void> {
  await pipeline(Readable.from(lines), client.query(copyFrom(statement)));
}

/** A value for a text-format COPY line: backslash, tab and newline escaped. */
export function copyText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
  );
}

interface SavedDefinition {
  name: string;
  definition: string;
}

export interface DroppedStructure {
  indexes: SavedDefinition[];
  constraints: SavedDefinition[];
}

/**
 * Drops the table's indexes and key constraints (keeping CHECKs) so a large
 * load appends to a bare heap; restoreStructure builds them back by sorting,
 * far faster than maintaining the B-trees row by row. Not for a partitioned
 * table (its indexes belong to the parent's definition).
 */
export async function dropStructure(client: pg.Client, table: string): Promise<DroppedStructure> {
  const constraints = await client.query<SavedDefinition>(
    `SELECT conname AS name, pg_get_constraintdef(oid) AS definition
       FROM pg_constraint WHERE conrelid = $1::regclass AND contype IN ('p', 'u', 'f')
      ORDER BY contype DESC`,
    [table],
  );
  const indexes = await client.query<SavedDefinition>(
    `SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      WHERE x.indrelid = $1::regclass
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)`,
    [table],
  );
  for (const c of constraints.rows)
    await client.query(`ALTER TABLE ${table} DROP CONSTRAINT ${quoteIdent(c.name)}`);
  for (const i of indexes.rows) await client.query(`DROP INDEX ${quoteIdent(i.name)}`);
  return { indexes: indexes.rows, constraints: constraints.rows.reverse() };
}

export async function restoreStructure(
  client: pg.Client,
  table: string,
  dropped: DroppedStructure,
): Promise<void> {
  // Primary key first (foreign keys of other tables may need it), plain indexes next.
  for (const c of dropped.constraints.filter((x) => !x.definition.startsWith('FOREIGN KEY'))) {
    await client.query(`ALTER TABLE ${table} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.definition}`);
  }
  for (const i of dropped.indexes) await client.query(i.definition);
  for (const c of dropped.constraints.filter((x) => x.definition.startsWith('FOREIGN KEY'))) {
    // Checked by one join per constraint instead of one lookup per row.
    await client.query(`ALTER TABLE ${table} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.definition} NOT VALID`);
    await client.query(`ALTER TABLE ${table} VALIDATE CONSTRAINT ${quoteIdent(c.name)}`);
  }
}
