import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startNova } from '../../test/e2e/harness.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');
const ADMIN_URL = process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** The password `nova seed` gives every account it loads (auth's seed hook). */
const SEED_PASSWORD = 'nova-seed-password';

export type RunningNova = Awaited<ReturnType<typeof startNova>>;

/** A bench run's own PostgreSQL database, and the all-in-one server started on it. */
export interface BenchDatabase {
  /** DATABASE_URL of the fresh database. */
  readonly url: string;
  /** Its name, and the admin connection that made it (to find its backends). */
  readonly name: string;
  readonly adminUrl: string;
  /** `nova migrate --target=all` as a process, with `env` on top of the bench's. */
  migrate(env: Record<string, string>): Promise<void>;
  /** The all-in-one server with `env` (DATABASE_URL included), by `command` (default `npm start`); `drop` stops it. */
  start(env: Record<string, string>, command?: string[]): Promise<RunningNova>;
  /** Stops the server, ends every session on the database and drops it. */
  drop(): Promise<void>;
}

/** Creates `<prefix>_<now>` on the bench's PostgreSQL server. */
export async function createBenchDatabase(prefix = 'nova_bench'): Promise<BenchDatabase> {
  const name = `${prefix}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  let nova: RunningNova | undefined;
  return {
    url,
    name,
    adminUrl: ADMIN_URL,
    async migrate(env) {
      await run('node', ['--import', 'tsx', 'apps/nova/src/main.ts', 'migrate', '--target=all'], {
        cwd: ROOT,
        env: { ...process.env, ...env },
      });
    },
    async start(env, command) {
      nova = await startNova({ env, command });
      return nova;
    },
    async drop() {
      await nova?.stop();
      nova?.cleanup();
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
    },
  };
}

/** Logs a seeded account in; the Authorization header of its session. */
export async function loginSeeded(baseUrl: string, username: string): Promise<Record<string, string>> {
  const answer = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: username, password: SEED_PASSWORD }),
  });
  const { accessToken } = (await answer.json()) as { accessToken?: string };
  if (!accessToken) throw new Error(`login as ${username} failed: ${answer.status}`);
  return { authorization: `Bearer ${accessToken}` };
}
