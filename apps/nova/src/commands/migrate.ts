import { createDatabaseProvider, createLogger, runMigrations } from '@nova/kernel';
import type { CommandOptions } from '../cli.js';
import { resolveTarget, TargetError } from '../modules.js';
import { loadConfigOrReport, withoutStatementTimeout } from './load-config.js';

/** `nova migrate`: apply pending forward-only migrations of each service of the target. */
export async function runMigrate(options: CommandOptions): Promise<number> {
  const config = loadConfigOrReport(options);
  if (!config) return 1;
  const logger = createLogger(config.logLevel, { command: 'migrate' });
  let modules: ReturnType<typeof resolveTarget>;
  try {
    modules = resolveTarget(config.target);
  } catch (error) {
    if (error instanceof TargetError) {
      process.stderr.write(`nova: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const provider = createDatabaseProvider({ config: withoutStatementTimeout(config), logger });
  try {
    for (const module of modules) {
      const database = await provider.open(module.name);
      const { applied } = await runMigrations(
        database,
        module.migrationsDir,
        logger.child({ module: module.name }),
      );
      process.stdout.write(
        `${module.name}: ${applied.length === 0 ? 'up to date' : `applied ${applied.join(', ')}`}\n`,
      );
    }
    return 0;
  } catch (error) {
    logger.error({ err: error }, 'migration failed');
    return 1;
  } finally {
    await provider.close();
  }
}
