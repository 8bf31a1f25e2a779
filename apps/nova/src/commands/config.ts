import { type ConfigKey, describeConfig } from '@nova/kernel';
import type { CommandOptions } from '../cli.js';
import { TargetError } from '../modules.js';
import { CONFIG_COMPOSITION } from './load-config.js';

/** The keys a target reads: the kernel's, the per-service keys of every registered module, its modules' own. */
export function configKeys(target: string): ConfigKey[] {
  const running = new Set(CONFIG_COMPOSITION.resolveTarget?.(target).map((m) => m.name));
  return describeConfig(CONFIG_COMPOSITION).filter((key) => key.owner === 'kernel' || running.has(key.owner));
}

/** `nova config`: every environment variable the target reads, as a Markdown table. */
export async function runConfig(options: CommandOptions): Promise<number> {
  let keys: ConfigKey[];
  try {
    keys = configKeys(options.target ?? process.env.NOVA_TARGET ?? 'all');
  } catch (error) {
    if (error instanceof TargetError) {
      process.stderr.write(`nova: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const cell = (value: unknown) => (value === undefined ? '' : `\`${String(value)}\``);
  const lines = ['| variable | module | default | meaning |', '|---|---|---|---|'];
  for (const key of keys)
    lines.push(`| \`${key.key}\` | ${key.owner} | ${cell(key.default)} | ${key.description ?? ''} |`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
