import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@nova/kernel';
import webPush from 'web-push';
import type { VapidConfig } from '../config.js';

/** The VAPID identity (RFC 8292) pushes are signed with. */
export interface VapidKeys {
  subject: string;
  /** base64url uncompressed P-256 point: what `PushManager.subscribe` takes as applicationServerKey. */
  publicKey: string;
  privateKey: string;
}

const KEY_FILE = 'web-push-vapid.json';

/**
 * The configured key pair, or the one kept under NOVA_DATA_DIR/keys —
 * generated on the first start and reused after, because every browser
 * subscription is bound to the public key it was made with: a new key would
 * silently orphan them all.
 */
export async function loadVapidKeys(
  config: VapidConfig,
  dataDir: string,
  logger: Logger,
): Promise<VapidKeys> {
  if (config.keys) return { subject: config.subject, ...config.keys };
  const dir = path.join(dataDir, 'keys');
  const file = path.join(dir, KEY_FILE);
  const stored = await readKeyFile(file);
  if (stored) return { subject: config.subject, ...stored };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const generated = webPush.generateVAPIDKeys();
  try {
    // 'wx': two processes starting at once on one data dir keep the first pair.
    await writeFile(file, JSON.stringify(generated), { flag: 'wx', mode: 0o600 });
    logger.info({ file }, 'generated a VAPID key pair for Web Push');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const kept = await readKeyFile(file);
  if (!kept) throw new Error(`${file} holds no VAPID key pair`);
  return { subject: config.subject, ...kept };
}

async function readKeyFile(file: string): Promise<{ publicKey: string; privateKey: string } | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as { publicKey?: unknown; privateKey?: unknown };
  if (typeof parsed.publicKey !== 'string' || typeof parsed.privateKey !== 'string')
    throw new Error(`${file} is not a VAPID key file`);
  return { publicKey: parsed.publicKey, privateKey: parsed.privateKey };
}
