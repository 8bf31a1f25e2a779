import { createLogger, type Database, runMigrations } from '@nova/kernel';
import { DATABASE_KINDS, type DatabaseKind, openTestDatabases } from '@nova/kernel/testing';
import { authModule } from '../../src/index.js';
import type { AuthTables } from '../../src/store/tables.js';

export const AUTH_DATABASE_KINDS = DATABASE_KINDS;

export interface OpenedAuthDatabase {
  database: Database<AuthTables>;
  close(): Promise<void>;
}

/** A private database of the given kind with the auth migrations applied. */
export async function openAuthDatabase(kind: DatabaseKind): Promise<OpenedAuthDatabase> {
  const opened = await openTestDatabases(kind);
  try {
    const database = await opened.provider.open<AuthTables>('auth');
    await runMigrations(database as Database<unknown>, authModule.migrationsDir, createLogger('silent'));
    return { database, close: () => opened.close() };
  } catch (error) {
    await opened.close();
    throw error;
  }
}
