import type { Transaction } from 'kysely';
import type { Database } from './database.js';

// Deadlock and serialization failures: the transaction had no effect and can simply run again.
const RETRYABLE_SQLSTATES = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 4;

function sqlState(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** True when PostgreSQL aborted the transaction for a deadlock or a serialization conflict. */
export function isRetryableTransactionError(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && RETRYABLE_SQLSTATES.has(state);
}

/**
 * Runs `fn` in one transaction, run again (up to 4 attempts, short jittered
 * pauses) when PostgreSQL aborted it for a deadlock or a serialization
 * failure: changes that touch many rows (counters, purges, approvals) cannot
 * always lock them in one global order. `fn` must have no effect outside the
 * transaction, since it may run more than once.
 */
export async function inTransaction<DB, T>(
  database: Database<DB>,
  fn: (tx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await database.transaction(fn);
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !isRetryableTransactionError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 20));
    }
  }
}
