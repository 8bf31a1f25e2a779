import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Reads a secret file under `dir`, creating it with `create()` on first use.
 * Creation is atomic and exclusive (write a temp file, then link(2), which
 * fails when the name exists), so two processes starting together agree on
 * one key. Files are 0600 in a 0700 directory.
 */
export async function readOrCreateSecretFile(
  dir: string,
  name: string,
  create: () => Promise<string>,
): Promise<string> {
  const file = path.join(dir, name);
  const existing = await readIfPresent(file);
  if (existing !== null) return existing;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = path.join(dir, `.${name}.${randomUUID()}.tmp`);
  await writeFile(temp, await create(), { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temp);
  }
  const created = await readIfPresent(file);
  if (created === null) throw new Error(`could not create ${file}`);
  return created;
}

async function readIfPresent(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
