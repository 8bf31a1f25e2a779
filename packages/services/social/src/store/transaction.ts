import type { Database } from '@nova/kernel';
import type { Transaction } from 'kysely';
import type { SocialTables } from './tables.js';

// Deadlock and serialization failures: the transaction had no effect and can simply run again.
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 4;

function sqlState(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Runs a graph change in one transaction, retried when PostgreSQL aborted it
 * for a deadlock: counter updates touch many rows (blocks, purges, approvals)
 * and cannot always lock them in one global order.
 */
export async function inTransaction<T>(
  database: Database<SocialTables>,
  fn: (tx: Transaction<SocialTables>) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await database.transaction(fn);
    } catch (error) {
      const state = sqlState(error);
      if (attempt >= MAX_ATTEMPTS || state === undefined || !RETRYABLE_SQLSTATES.has(state)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 20));
    }
  }
}
