import { bootGateway, GATEWAY_TARGET } from '@nova/gateway';
import { createLogger, DependencyUnreachableError, flushLogs } from '@nova/kernel';
import { bootNova } from '../boot.js';
import type { CommandOptions } from '../cli.js';
import { TargetError } from '../modules.js';
import { loadConfigOrReport } from './load-config.js';

/** `nova start`: boot the target, listen, and stop gracefully on SIGTERM/SIGINT. */
export async function runStart(options: CommandOptions): Promise<number> {
  const config = loadConfigOrReport(options);
  if (!config) return 1;
  const logger = createLogger(config.logLevel, { target: config.target });
  let nova: Pick<Awaited<ReturnType<typeof bootNova>>, 'start' | 'lifecycle'>;
  try {
    nova =
      config.target.trim() === GATEWAY_TARGET
        ? await bootGateway(config, logger)
        : await bootNova(config, logger);
  } catch (error) {
    if (error instanceof TargetError) {
      process.stderr.write(`nova: ${error.message}\n`);
      return 1;
    }
    if (error instanceof DependencyUnreachableError) {
      logger.fatal({ dependency: error.dependency, where: error.where }, error.message);
      process.stderr.write(`nova: refusing to start: ${error.message}\n`);
      return 1;
    }
    logger.fatal({ err: error }, 'start-up failed');
    return 1;
  }
  // Exit explicitly once stopped: nothing left should keep the process alive.
  // The logs get what is left of the shutdown budget, then the process exits regardless.
  const stopSignals = nova.lifecycle.installSignalHandlers((code) => process.exit(code), {
    flush: flushLogs,
  });
  try {
    const address = await nova.start();
    logger.info({ address, target: config.target, dataDir: config.dataDir }, 'nova is listening');
  } catch (error) {
    logger.fatal({ err: error }, 'could not start');
    stopSignals();
    await nova.lifecycle.shutdown('start-up failed');
    return 1;
  }
  // The process now lives until a signal; the lifecycle sets the exit code.
  return new Promise<number>(() => undefined);
}
