import { parseArgs } from 'node:util';

export const USAGE = `Usage: nova <command> [options]

Commands:
  start [--target=all|gateway|<service>[,<service>]]
                                                run the platform (default target: $NOVA_TARGET or all);
                                                gateway: the public edge of the split shape
  migrate [--target=...]                        apply pending migrations of the target's services
  seed [--users=N] [--follows=N] [--posts=N] [--seed=S]
                                                load a deterministic synthetic population
  config [--target=...]                         list every environment variable the target reads
  dlq list [--group=G] [--json] [--target=...]  dead-lettered events of the target's consumer groups
  dlq redrive --group=G (--id=ID | --all)       hand dead letters back to their group's handler (exactly once)
  backfill --group=G [--target=...]             rebuild a group's read model from its snapshot at its next start
  analytics reconcile --day=YYYY-MM-DD          compare a day's posts, likes, comments, follows: sources vs analytics store
                                                (exit 3 when they drift)
  analytics backfill --day=YYYY-MM-DD           rewrite that day in the analytics store from content and social
  help                                          this text

Configuration comes from the environment (see README.md).
`;

export interface CommandOptions {
  target?: string;
  users?: number;
  follows?: number;
  posts?: number;
  seed?: number;
  /** dlq: the action and its selection; analytics: reconcile or backfill. */
  action?: 'list' | 'redrive' | 'reconcile' | 'backfill';
  /** analytics: the UTC day, YYYY-MM-DD. */
  day?: string;
  group?: string;
  id?: string;
  all?: boolean;
  json?: boolean;
}

export type ParsedCommandLine =
  | {
      command: 'start' | 'migrate' | 'seed' | 'config' | 'dlq' | 'backfill' | 'analytics' | 'help';
      options: CommandOptions;
    }
  | { error: string };

const COMMANDS = ['start', 'migrate', 'seed', 'config', 'dlq', 'backfill', 'analytics', 'help'] as const;

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
        posts: { type: 'string' },
        seed: { type: 'string' },
        group: { type: 'string' },
        id: { type: 'string' },
        all: { type: 'boolean' },
        json: { type: 'boolean' },
        day: { type: 'string' },
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
  const options: CommandOptions = {};
  if (command === 'dlq') {
    const action = rest.shift();
    if (action !== 'list' && action !== 'redrive') return { error: 'dlq needs an action: list or redrive' };
    options.action = action;
    const { group, id, all, json } = parsed.values;
    if (typeof group === 'string') options.group = group;
    if (typeof id === 'string') options.id = id;
    if (all === true) options.all = true;
    if (json === true) options.json = true;
    if (action === 'redrive') {
      if (!options.group) return { error: 'dlq redrive needs --group' };
      if ((options.id === undefined) === (options.all === undefined))
        return { error: 'dlq redrive needs exactly one of --id=<dead letter id> or --all' };
    }
  } else if (command === 'backfill') {
    const { group } = parsed.values;
    if (typeof group !== 'string' || group === '') return { error: 'backfill needs --group' };
    options.group = group;
    for (const key of ['id', 'all', 'json'] as const)
      if (parsed.values[key] !== undefined) return { error: `--${key} belongs to the dlq command` };
  } else if (command === 'analytics') {
    const action = rest.shift();
    if (action !== 'reconcile' && action !== 'backfill')
      return { error: 'analytics needs an action: reconcile or backfill' };
    options.action = action;
    const { day } = parsed.values;
    if (typeof day !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(day))
      return { error: `analytics ${action} needs --day=YYYY-MM-DD` };
    options.day = day;
    for (const key of ['group', 'id', 'all'] as const)
      if (parsed.values[key] !== undefined) return { error: `--${key} belongs to the dlq command` };
    if (parsed.values.json === true) options.json = true;
  } else {
    for (const key of ['group', 'id', 'all', 'json'] as const)
      if (parsed.values[key] !== undefined) return { error: `--${key} belongs to the dlq command` };
  }
  if (command !== 'analytics' && parsed.values.day !== undefined)
    return { error: '--day belongs to the analytics command' };
  if (rest.length > 0) return { error: `unexpected argument "${rest[0]}"` };
  if (typeof parsed.values.target === 'string') options.target = parsed.values.target;
  for (const key of ['users', 'follows', 'posts', 'seed'] as const) {
    const raw = parsed.values[key];
    if (typeof raw !== 'string') continue;
    if (!/^\d+$/.test(raw)) return { error: `--${key} must be a non-negative integer` };
    options[key] = Number(raw);
  }
  return { command, options };
}
