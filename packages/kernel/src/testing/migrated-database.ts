import type { Database } from '../db/database.js';
import { runMigrations } from '../db/migrations.js';
import { createLogger } from '../logging/logger.js';
import { type DatabaseKind, openTestDatabases, type TestDatabases } from './databases.js';

export interface MigratedDatabase<T> {
  dbs: TestDatabases;
  /** The service's schema, with its migrations (and the kernel's) applied. */
  database: Database<T>;
  close(): Promise<void>;
}

/** One service's schema on a private test database, migrated: the setup of a suite that drives a store directly. */
export async function openMigratedDatabase<T>(
  kind: DatabaseKind,
  service: string,
  migrationsDir: string,
): Promise<MigratedDatabase<T>> {
  const dbs = await openTestDatabases(kind);
  try {
    const database = await dbs.provider.open<T>(service);
    await runMigrations(database, migrationsDir, createLogger('silent'));
    return { dbs, database, close: () => dbs.close() };
  } catch (error) {
    await dbs.close();
    throw error;
  }
}
