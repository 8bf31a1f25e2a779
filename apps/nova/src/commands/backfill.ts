import { requestBackfill } from '@nova/kernel';
import type { CommandOptions } from '../cli.js';
import { bootForCommand } from './boot-for-command.js';

/**
 * `nova backfill --group=G`: marks a consumer group with a backfill for a
 * rebuild (ADR 018). Its next start records a new log position, forgets the
 * group's processed events and checkpoints, empties the read model (`reset`)
 * and reads the owning service's snapshot again. Run it with the group's
 * processes stopped.
 */
export async function runBackfill(options: CommandOptions): Promise<number> {
  const booted = await bootForCommand(options, 'backfill');
  if (!booted) return 1;
  const { nova, config, logger } = booted;
  try {
    const consumers = nova.kernel.consumers;
    const spec = consumers.get(options.group ?? '');
    if (!spec?.backfill) {
      const known =
        [...consumers.values()]
          .filter((s) => s.backfill)
          .map((s) => s.group)
          .join(', ') || 'none';
      process.stderr.write(
        `nova: no consumer group "${options.group}" with a backfill in target ${config.target} (known: ${known})\n`,
      );
      return 1;
    }
    await requestBackfill(spec.database as never, spec.group);
    process.stdout.write(`backfill of ${spec.group} requested: it rebuilds at its next start\n`);
    return 0;
  } catch (error) {
    logger.error({ err: error }, 'backfill failed');
    process.stderr.write(`nova: backfill failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await nova.stop().catch(() => undefined);
  }
}
