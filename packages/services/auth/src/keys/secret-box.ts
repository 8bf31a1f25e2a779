import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import path from 'node:path';
import type { AuthConfig } from '../config.js';
import { readOrCreateSecretFile } from './key-files.js';

const VERSION = 'v1';
const KEY_FILE = 'encryption.key';

/** AES-256-GCM for small secrets at rest (TOTP seeds). */
export interface SecretBox {
  seal(plaintext: string, context: string): string;
  /** Throws when the ciphertext was tampered with or sealed under another context or key. */
  open(sealed: string, context: string): string;
  /**
   * The value sealed again under the sealing key when it opens only with an
   * accepted (older) key; null when the sealing key already opens it.
   * Throws like `open` when no key opens it.
   */
  reseal(sealed: string, context: string): string | null;
  /**
   * A secret derived from `input` (32 bytes, base64url): the same input gives the same
   * secret, and without the key nobody can compute it. `purpose` separates its uses.
   */
  derive(purpose: string, input: string): string;
}

/** `config.auth.encryptionKey`, or (development) a key generated once under `<dataDir>/keys/`. */
export async function loadSecretBox(config: Pick<AuthConfig, 'auth' | 'dataDir'>): Promise<SecretBox> {
  const encoded =
    config.auth.encryptionKey ??
    (await readOrCreateSecretFile(path.join(config.dataDir, 'keys'), KEY_FILE, async () =>
      randomBytes(32).toString('base64'),
    ));
  return createSecretBox(
    Buffer.from(encoded.trim(), 'base64'),
    config.auth.acceptedEncryptionKeys.map((accepted) => Buffer.from(accepted.trim(), 'base64')),
  );
}

/**
 * `key` seals and opens; `acceptedKeys` (a rotation's other key) only open.
 * Derivations use `key` alone.
 */
export function createSecretBox(key: Buffer, acceptedKeys: readonly Buffer[] = []): SecretBox {
  if ([key, ...acceptedKeys].some((k) => k.length !== 32))
    throw new Error('the encryption key must be 32 bytes');
  // Derivations never use the encryption key itself.
  const macKey = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'nova auth derive v1', 32));
  const box: SecretBox = {
    derive(purpose, input) {
      return createHmac('sha256', macKey).update(`${purpose}\0${input}`, 'utf8').digest('base64url');
    },
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      // The context (e.g. the user id) is authenticated: a sealed value copied to another row will not open.
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv, cipher.getAuthTag(), body]
        .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
        .join('.');
    },
    open(sealed, context) {
      return openWith(sealed, context).plaintext;
    },
    reseal(sealed, context) {
      const opened = openWith(sealed, context);
      return opened.key === key ? null : box.seal(opened.plaintext, context);
    },
  };

  /** The plaintext and the key that opened it: the sealing key first, then the accepted ones. */
  function openWith(sealed: string, context: string): { plaintext: string; key: Buffer } {
    const [version, iv, tag, body] = sealed.split('.');
    if (version !== VERSION || iv === undefined || tag === undefined || body === undefined) {
      throw new Error('unrecognised sealed value');
    }
    let failure: unknown;
    for (const candidate of [key, ...acceptedKeys]) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', candidate, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        const plaintext = Buffer.concat([
          decipher.update(Buffer.from(body, 'base64url')),
          decipher.final(),
        ]).toString('utf8');
        return { plaintext, key: candidate };
      } catch (error) {
        failure = error; // GCM's tag check: not this key (or tampered); try the next.
      }
    }
    throw failure;
  }
  return box;
}
