import { createLogger } from '@nova/kernel';
import type { CommandOptions } from '../cli.js';
import { bootNova } from '../boot.js';
import { TargetError } from '../modules.js';
import { loadConfigOrReport } from './load-config.js';

/** `nova start`: boot the target, listen, and stop gracefully on SIGTERM/SIGINT. */
export async function runStart(options: CommandOptions): Promise<number> {
  const config = loadConfigOrReport(options);
  if (!config) return 1;
  const logger = createLogger(config.logLevel, { target: config.target });
  let nova: Awaited<ReturnType<typeof bootNova>>;
  try {
    nova = await bootNova(config, logger);
  } catch (error) {
    if (error instanceof TargetError) {
      process.stderr.write(`nova: ${error.message}\n`);
      return 1;
    }
    logger.fatal({ err: error }, 'start-up failed');
    return 1;
  }
  const address = await nova.start();
  logger.info({ address, target: config.target, dataDir: config.dataDir }, 'nova is listening');

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      const deadline = Date.now() + config.shutdownTimeoutMs;
      const guard = setTimeout(() => {
        logger.error('shutdown deadline passed; exiting');
        process.exit(1);
      }, config.shutdownTimeoutMs + 1000);
      guard.unref();
      nova.stop(deadline).then(
        () => {
          logger.info('stopped cleanly');
          resolve(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
}
