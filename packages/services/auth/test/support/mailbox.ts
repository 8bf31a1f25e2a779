import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { StartedModules } from '@nova/kernel/testing';

/** The `token=` of every mail to `to` whose link path contains `pathPart`, newest first (the file mailer's dir). */
async function readTokens(server: StartedModules, to: string, pathPart: string): Promise<string[]> {
  const mailDir = path.join(server.config.dataDir, 'mail');
  let files: string[] = [];
  try {
    files = (await readdir(mailDir))
      .filter((f) => f.endsWith('.eml'))
      .sort()
      .reverse();
  } catch {
    return []; // no mail yet
  }
  const tokens: string[] = [];
  for (const file of files) {
    const mail = (await readFile(path.join(mailDir, file), 'utf8'))
      .replace(/=\r?\n/g, '')
      .replace(/=3D/g, '=');
    if (!mail.toLowerCase().includes(`to: ${to.toLowerCase()}`)) continue;
    const match = new RegExp(`${pathPart}\\?token=([A-Za-z0-9_-]+)`).exec(mail);
    if (match?.[1]) tokens.push(match[1]);
  }
  return tokens;
}

/** Waits for at least `count` such mails; every token found, newest first. */
export async function mailTokens(
  server: StartedModules,
  to: string,
  pathPart: string,
  count: number,
  timeoutMs = 10_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const tokens = await readTokens(server, to, pathPart);
    if (tokens.length >= count) return tokens;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`fewer than ${count} ${pathPart} mails to ${to} within ${timeoutMs} ms`);
}

/** The `token=` of the newest mail to `to` whose link path contains `pathPart`. */
export async function mailToken(
  server: StartedModules,
  to: string,
  pathPart: string,
  timeoutMs = 10_000,
): Promise<string> {
  const [newest] = await mailTokens(server, to, pathPart, 1, timeoutMs);
  if (!newest) throw new Error(`no ${pathPart} mail to ${to}`);
  return newest;
}
