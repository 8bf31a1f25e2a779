import type { RevokedSessionEntry } from '@nova/contracts';
import type { Kysely } from 'kysely';
import { revocationsRepository } from '../store/revocations-repository.js';
import type { AuthTables } from '../store/tables.js';
import type { RevokedSessionSource } from './revocations.js';

// Clocks of the database and of auth's processes differ a little: marks live a bit longer than exact.
export const CLOCK_SLACK_SECONDS = 5;

/** Sessions revoked after `since`, each with the time its last access token is expired. */
export async function revokedSince(
  db: Kysely<AuthTables>,
  since: Date,
  ttlSeconds: number,
): Promise<RevokedSessionEntry[]> {
  const rows = await revocationsRepository.listSince(db, since);
  return rows.map((row) => ({
    id: row.sessionId,
    until: Math.ceil(row.revokedAt.getTime() / 1000) + ttlSeconds + CLOCK_SLACK_SECONDS,
  }));
}

/** The durable truth the security store's marks are restored from. */
export function revokedSessionSource(database: { db: Kysely<AuthTables> }): RevokedSessionSource {
  return (ttlSeconds) =>
    revokedSince(database.db, new Date(Date.now() - (ttlSeconds + CLOCK_SLACK_SECONDS) * 1000), ttlSeconds);
}
