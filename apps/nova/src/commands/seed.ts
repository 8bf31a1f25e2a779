import { createDatabaseProvider, createLogger, runMigrations, type SeedContext } from '@nova/kernel';
import cliProgress from 'cli-progress';
import type { CommandOptions } from '../cli.js';
import { resolveTarget } from '../modules.js';
import { loadConfigOrReport, withoutStatementTimeout } from './load-config.js';

const HOUR_MS = 3_600_000;

/**
 * `nova seed`: a deterministic population, each service's share loaded by its
 * own seed hook (auth the accounts, social the profiles and follow graph,
 * content the posts, likes and comments) into its own migrated database.
 * Offline: no events are published.
 */
export async function runSeed(options: CommandOptions): Promise<number> {
  const config = loadConfigOrReport({ target: options.target ?? 'all' });
  if (!config) return 1;
  if (config.env === 'production') {
    // Every seeded account signs in with one published password: never in a real deployment.
    process.stderr.write(
      'nova: seed refuses to run with NOVA_ENV=production: every seeded account shares one published password\n',
    );
    return 1;
  }
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, { command: 'seed' });
  const users = options.users ?? 1000;
  const follows = options.follows ?? users * 20;
  const posts = options.posts ?? users * 10;
  // The start of this hour: content's and the feed's hooks derive the same posts from it.
  const postsEndMs = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
  if (users < 2) {
    process.stderr.write('nova: --users must be at least 2\n');
    return 2;
  }
  const provider = createDatabaseProvider({ config: withoutStatementTimeout(config), logger });
  const bar = new cliProgress.SingleBar(
    {
      format: '{phase} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}',
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const progress: SeedContext['progress'] = (phase, total) => {
    bar.start(total, 0, { phase: phase.padEnd(8) });
    return {
      update(done, newTotal) {
        if (newTotal !== undefined) bar.setTotal(newTotal);
        bar.update(done);
      },
      done: () => bar.stop(),
    };
  };
  const started = Date.now();
  try {
    const summaries: string[] = [];
    const notes: string[] = [];
    for (const module of resolveTarget(config.target)) {
      if (!module.seed) continue;
      const database = await provider.open(module.name);
      await runMigrations(database, module.migrationsDir, logger.child({ module: module.name }));
      const result = await module.seed({
        config,
        logger: logger.child({ module: module.name }),
        database,
        options: { users, follows, posts, postsEndMs, seed: options.seed ?? 42 },
        progress,
      });
      summaries.push(result.summary);
      if (result.note) notes.push(result.note);
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const summary = summaries.join(', ') || 'nothing';
    process.stdout.write(`seeded ${summary} in ${seconds} s${notes.map((n) => `; ${n}`).join('')}\n`);
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
