import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

export interface SeedSize {
  users: number;
  follows: number;
  posts: number;
  seed?: number;
}

/** `nova seed` as a process, the way an operator runs it; its stdout and the wall seconds it took. */
export async function runNovaSeed(
  env: Record<string, string>,
  size: SeedSize,
): Promise<{ seconds: number; stdout: string }> {
  const started = Date.now();
  const args = [`--users=${size.users}`, `--follows=${size.follows}`, `--posts=${size.posts}`];
  if (size.seed !== undefined) args.push(`--seed=${size.seed}`);
  const { stdout } = await run('node', ['--import', 'tsx', 'apps/nova/src/main.ts', 'seed', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { seconds: (Date.now() - started) / 1000, stdout };
}
