import { hashPassword, loadAccounts } from '@nova/auth';
import { createDatabaseProvider, createLogger, runMigrations } from '@nova/kernel';
import { generatePopulation, loadSocialGraph, type SocialTables } from '@nova/social';
import cliProgress from 'cli-progress';
import type { CommandOptions } from '../cli.js';
import { MODULES } from '../modules.js';
import { loadConfigOrReport, withoutStatementTimeout } from './load-config.js';

/** Every seeded account signs in with this password (demo and benchmark data only). */
export const SEED_PASSWORD = 'nova-seed-password';

/**
 * `nova seed`: a deterministic population — accounts in auth, profiles and a
 * power-law follow graph in social — each service's rows loaded by that
 * service's own bulk loader. Offline: no events are published.
 */
export async function runSeed(options: CommandOptions): Promise<number> {
  const config = loadConfigOrReport({});
  if (!config) return 1;
  if (config.env === 'production') {
    // Every seeded account signs in with one published password: never in a real deployment.
    process.stderr.write(
      `nova: seed refuses to run with NOVA_ENV=production: it creates accounts whose password ("${SEED_PASSWORD}") is public\n`,
    );
    return 1;
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, { command: 'seed' });
  const users = options.users ?? 1000;
  const follows = options.follows ?? users * 20;
  if (users < 2) {
    process.stderr.write('nova: --users must be at least 2\n');
    return 2;
  }
  const population = generatePopulation({ users, seed: options.seed ?? 42, avgFollows: follows / users });
  const provider = createDatabaseProvider({ config: withoutStatementTimeout(config), logger });
  const bar = new cliProgress.SingleBar(
    {
      format: '{phase} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}',
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  try {
    const auth = await provider.open('auth');
    const social = await provider.open<SocialTables>('social');
    await runMigrations(auth, MODULES.auth?.migrationsDir ?? '', logger);
    await runMigrations(social, MODULES.social?.migrationsDir ?? '', logger);

    const passwordHash = await hashPassword(SEED_PASSWORD, config);
    bar.start(users, 0, { phase: 'accounts' });
    const accounts = (function* () {
      for (const chunk of population.userChunks(5000)) yield* chunk;
    })();
    let loadedAccounts = 0;
    await loadAccounts(auth, accounts, passwordHash, (n) => {
      loadedAccounts = n;
      bar.update(n);
    });
    bar.stop();

    bar.start(users + population.followCount, 0, { phase: 'graph   ' });
    const result = await loadSocialGraph(social, population, {
      postgresUrl: config.database.urls.social,
      onProgress: (done, total) => {
        bar.setTotal(total);
        bar.update(done);
      },
    });
    bar.stop();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `seeded ${loadedAccounts} accounts, ${result.users} profiles and ${result.follows} follows ` +
        `(${result.method}) in ${seconds} s; every account's password is "${SEED_PASSWORD}"\n`,
    );
    return 0;
  } catch (error) {
    bar.stop();
    logger.error({ err: error }, 'seed failed');
    process.stderr.write(`nova: seed failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await provider.close();
  }
}
