import { parseArgs } from 'node:util';

export const USAGE = `Usage: nova <command> [options]

Commands:
  start [--target=all|<service>[,<service>]]   run the platform (default target: $NOVA_TARGET or all)
  migrate [--target=...]                        apply pending migrations of the target's services
  seed [--users=N] [--follows=N] [--seed=S]     load a deterministic synthetic population
  config [--target=...]                         list every environment variable the target reads
  help                                          this text

Configuration comes from the environment (see README.md).
`;

export interface CommandOptions {
  target?: string;
  users?: number;
  follows?: number;
  seed?: number;
}

export type ParsedCommandLine =
  | { command: 'start' | 'migrate' | 'seed' | 'config' | 'help'; options: CommandOptions }
  | { error: string };

const COMMANDS = ['start', 'migrate', 'seed', 'config', 'help'] as const;

export function parseCommandLine(argv: string[]): ParsedCommandLine {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        target: { type: 'string' },
        users: { type: 'string' },
        follows: { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return { error: (error as Error).message };
  }
  const [name = 'help', ...rest] = parsed.positionals;
  if (parsed.values.help) return { command: 'help', options: {} };
  const command = COMMANDS.find((c) => c === name);
  if (!command) return { error: `unknown command "${name}"` };
  if (rest.length > 0) return { error: `unexpected argument "${rest[0]}"` };
  const options: CommandOptions = {};
  if (typeof parsed.values.target === 'string') options.target = parsed.values.target;
  for (const key of ['users', 'follows', 'seed'] as const) {
    const raw = parsed.values[key];
    if (typeof raw !== 'string') continue;
    if (!/^\d+$/.test(raw)) return { error: `--${key} must be a non-negative integer` };
    options[key] = Number(raw);
  }
  return { command, options };
}
