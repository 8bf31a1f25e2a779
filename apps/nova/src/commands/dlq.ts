import { assertEventPayload } from '@nova/contracts';
import {
  type ConsumerSpec,
  type createLogger,
  type DeadLetterEntry,
  listDeadLetters,
  type RedriveOutcome,
  redriveDeadLetter,
} from '@nova/kernel';
import type { CommandOptions } from '../cli.js';
import { bootForCommand } from './boot-for-command.js';

/**
 * `nova dlq list|redrive`: the dead letters of the target's consumer groups,
 * read from each group's own database (both event logs keep them there; on
 * Kafka nova.dlq.<group> holds a copy, plus records too malformed to be
 * events). Redrive boots the target's modules without serving or consuming
 * and hands each letter to its group's handler in one transaction with the
 * letter's removal, so it runs exactly once even beside a live consumer.
 */
export async function runDlq(options: CommandOptions): Promise<number> {
  const booted = await bootForCommand(options, 'dlq');
  if (!booted) return 1;
  const { nova, config, logger } = booted;
  try {
    const consumers = nova.kernel.consumers;
    const selected = options.group === undefined ? [...consumers.values()] : [consumers.get(options.group)];
    const spec = selected[0];
    if (options.group !== undefined && !spec) {
      const known = [...consumers.keys()].join(', ') || 'none';
      process.stderr.write(
        `nova: no consumer group "${options.group}" in target ${config.target} (known: ${known})\n`,
      );
      return 1;
    }
    const specs = selected as ConsumerSpec<unknown>[];
    if (options.action === 'redrive')
      return await redrive(specs[0] as ConsumerSpec<unknown>, options, logger);
    const letters = (
      await Promise.all(specs.map((s) => listDeadLetters(s.database, { group: s.group })))
    ).flat();
    process.stdout.write(options.json ? `${JSON.stringify(letters, null, 2)}\n` : table(letters));
    return 0;
  } catch (error) {
    logger.error({ err: error }, 'dlq failed');
    process.stderr.write(`nova: dlq failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await nova.stop().catch(() => undefined);
  }
}

async function redrive(
  spec: ConsumerSpec<unknown>,
  options: CommandOptions,
  logger: ReturnType<typeof createLogger>,
): Promise<number> {
  const ids = options.all
    ? (await listDeadLetters(spec.database, { group: spec.group, limit: 100_000 })).map((l) => l.id)
    : [options.id as string];
  const counts: Partial<Record<RedriveOutcome, number>> = {};
  for (const id of ids) {
    const { outcome, reason } = await redriveDeadLetter({ spec, validate: assertEventPayload, logger }, id);
    counts[outcome] = (counts[outcome] ?? 0) + 1;
    process.stdout.write(`${id}  ${outcome}${reason ? `  ${reason}` : ''}\n`);
  }
  const summary = (['processed', 'ignored', 'failed', 'gone'] as const).map((o) => `${counts[o] ?? 0} ${o}`);
  process.stdout.write(`${spec.group}: ${ids.length} redriven (${summary.join(', ')})\n`);
  // Anything not applied (still failing, or an id that is not a letter of this group) is the operator's to see.
  return (counts.failed ?? 0) + (counts.gone ?? 0) === 0 ? 0 : 1;
}

function table(letters: DeadLetterEntry[]): string {
  if (letters.length === 0) return 'no dead letters\n';
  const rows = letters.map((l) => [l.id, l.group, l.type, String(l.attempts), l.failedAt, oneLine(l.reason)]);
  const header = ['ID', 'GROUP', 'TYPE', 'ATTEMPTS', 'FAILED AT', 'REASON'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

const oneLine = (text: string): string => {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
};
