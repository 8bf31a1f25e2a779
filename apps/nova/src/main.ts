#!/usr/bin/env node
// The single entry point: `nova start|migrate|seed|config|dlq|backfill|analytics`. Wires commands, nothing else.
import { flushLogs } from '@nova/kernel';
import { parseCommandLine, USAGE } from './cli.js';
import { runAnalytics } from './commands/analytics.js';
import { runBackfill } from './commands/backfill.js';
import { runConfig } from './commands/config.js';
import { runDlq } from './commands/dlq.js';
import { runMigrate } from './commands/migrate.js';
import { runSeed } from './commands/seed.js';
import { runStart } from './commands/start.js';

const commands = {
  start: runStart,
  migrate: runMigrate,
  seed: runSeed,
  config: runConfig,
  dlq: runDlq,
  backfill: runBackfill,
  analytics: runAnalytics,
} as const;

const parsed = parseCommandLine(process.argv.slice(2));
if ('error' in parsed) {
  process.stderr.write(`${parsed.error}\n\n${USAGE}`);
  process.exit(2);
}
if (parsed.command === 'help') {
  process.stdout.write(USAGE);
  process.exit(0);
}
const code = await commands[parsed.command](parsed.options);
// A failed command exits now (its last log lines flushed, bounded): clients still
// retrying an unreachable dependency would keep it alive.
if (code !== 0) {
  await flushLogs(Date.now() + 2000);
  process.exit(code);
}
process.exitCode = code;
