import { type Config, createLogger, type Logger } from '@nova/kernel';
import { type BootedNova, bootNova } from '../boot.js';
import type { CommandOptions } from '../cli.js';
import { TargetError } from '../modules.js';
import { loadConfigOrReport } from './load-config.js';

/**
 * Boots the target's modules for an operator command (no serving, no
 * migrations), logging to stderr above info: operators read the command's
 * output, and the modules' info logs would drown it. Returns null after
 * printing why it could not.
 */
export async function bootForCommand(
  options: CommandOptions,
  command: string,
): Promise<{ nova: BootedNova; config: Config; logger: Logger } | null> {
  const config = loadConfigOrReport(options);
  if (!config) return null;
  const logger = createLogger(
    config.logLevel === 'info' ? 'warn' : config.logLevel,
    { command },
    { stderr: true },
  );
  try {
    return { nova: await bootNova(config, logger, { migrate: false }), config, logger };
  } catch (error) {
    const message =
      error instanceof TargetError ? error.message : `start-up failed: ${(error as Error).message}`;
    process.stderr.write(`nova: ${message}\n`);
    return null;
  }
}
