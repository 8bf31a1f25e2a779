import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type Config, loadConfig } from '../config/config.js';
import type { ConfigurableModule } from '../config/module-config.js';
import type { DatabaseProvider } from '../db/database.js';
import { createDatabaseProvider } from '../db/provider.js';
import { createLogger } from '../logging/logger.js';
import { pgliteTemplate } from './pglite-template.js';

/** Every suite that touches SQL runs on both: `describe.each(DATABASE_KINDS)`. */
export const DATABASE_KINDS = ['pglite', 'postgres'] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

/** The server test suites use; override with NOVA_TEST_POSTGRES_URL. */
const ADMIN_URL = process.env.NOVA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabases {
  provider: DatabaseProvider;
  config: Config;
  close(): Promise<void>;
}

/**
 * A Config for tests: silent logs, a private temporary data dir, then
 * `overrides`; `modules` adds their own keys and settings (as the app does).
 */
export function testConfig(
  overrides: NodeJS.ProcessEnv = {},
  modules: readonly ConfigurableModule[] = [],
): Config {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'nova-test-'));
  return loadConfig(
    { NOVA_ENV: 'test', LOG_LEVEL: 'silent', NOVA_DATA_DIR: dataDir, ...overrides },
    { modules },
  );
}

/**
 * A private database for one suite: an in-memory PGlite, or a fresh
 * PostgreSQL database `nova_test_<random>` dropped again by close().
 */
export async function openTestDatabases(
  kind: DatabaseKind,
  overrides: NodeJS.ProcessEnv = {},
  modules: readonly ConfigurableModule[] = [],
): Promise<TestDatabases> {
  if (kind === 'pglite') {
    const config = testConfig(overrides, modules);
    const provider = createDatabaseProvider({
      config,
      logger: createLogger(config.logLevel),
      pglite: { dataDir: 'memory://', loadDataDir: await pgliteTemplate() },
    });
    return {
      provider,
      config,
      async close() {
        await provider.close();
        await rm(config.dataDir, { recursive: true, force: true });
      },
    };
  }
  const created = await createPostgresTestDatabase();
  const config = withDatabaseUrl(testConfig(overrides, modules), created.url);
  const provider = createDatabaseProvider({ config, logger: createLogger(config.logLevel) });
  return {
    provider,
    config,
    async close() {
      await provider.close();
      await created.drop();
      await rm(config.dataDir, { recursive: true, force: true });
    },
  };
}

export interface PostgresTestDatabase {
  /** The URL of the new database on the shared test server. */
  url: string;
  /** Ends its remaining sessions and drops it. */
  drop(): Promise<void>;
}

/** A fresh PostgreSQL database `nova_test_<random>` on the shared server. */
export async function createPostgresTestDatabase(): Promise<PostgresTestDatabase> {
  const name = `nova_test_${randomBytes(6).toString('hex')}`;
  await admin((client) => client.query(`create database ${name}`));
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      admin(async (client) => {
        await client.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [
          name,
        ]);
        await client.query(`drop database if exists ${name}`);
      }),
  };
}

/**
 * Points every service at `url` the way DATABASE_URL does. Set on the derived
 * config rather than through loadConfig so a test database URL never depends
 * on how the environment schema validates URLs.
 */
export function withDatabaseUrl(config: Config, url: string): Config {
  const urls = Object.fromEntries(Object.keys(config.database.urls).map((service) => [service, url]));
  return { ...config, database: { ...config.database, urls, defaultUrl: url } };
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
