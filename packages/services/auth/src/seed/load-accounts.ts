import type { Database } from '@nova/kernel';
import { sql } from 'kysely';
import type { AuthTables } from '../store/tables.js';

const BATCH = 2000;

export interface SeedAccount {
  id: string;
  username: string;
  email: string;
}

/**
 * Bulk-inserts verified accounts sharing one precomputed password hash
 * (`nova seed`): multi-row INSERTs of a few thousand rows, existing ids or
 * names skipped. Returns how many rows were inserted.
 */
export async function loadAccounts(
  database: Database<unknown>,
  accounts: Iterable<SeedAccount>,
  passwordHash: string,
  onProgress?: (n: number) => void,
): Promise<number> {
  const db = (database as Database<AuthTables>).db;
  let inserted = 0;
  let batch: SeedAccount[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const rows = batch.map((a) => ({
      id: a.id,
      email: a.email,
      username: a.username,
      password_hash: passwordHash,
      email_verified_at: sql<Date>`now()`,
    }));
    batch = [];
    const result = await db
      .insertInto('users')
      .values(rows)
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    inserted += Number(result.numInsertedOrUpdatedRows ?? 0n);
    onProgress?.(inserted);
  };
  for (const account of accounts) {
    batch.push(account);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  return inserted;
}
