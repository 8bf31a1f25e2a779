import { randomInt } from 'node:crypto';
import { hashToken } from './tokens.js';

export const BACKUP_CODE_COUNT = 10;
// No 0/o, 1/l/i: codes are read off paper and typed by hand.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const GROUP = 5;

/** Ten codes like `k3m9p-x2q7r` (about 49 bits each). */
export function generateBackupCodes(count = BACKUP_CODE_COUNT): string[] {
  const codes = new Set<string>();
  while (codes.size < count) {
    let raw = '';
    for (let i = 0; i < GROUP * 2; i++) raw += ALPHABET[randomInt(ALPHABET.length)];
    codes.add(`${raw.slice(0, GROUP)}-${raw.slice(GROUP)}`);
  }
  return [...codes];
}

/** What the user typed, in the canonical form (case, spaces and hyphens ignored); null when not code-shaped. */
export function canonicalBackupCode(input: string): string | null {
  const compact = input.toLowerCase().replace(/[\s-]/g, '');
  if (compact.length !== GROUP * 2) return null;
  for (const char of compact) if (!ALPHABET.includes(char)) return null;
  return compact;
}

/** Stored form; codes carry enough entropy for a fast hash, and attempts are throttled. */
export function hashBackupCode(code: string): string | null {
  const canonical = canonicalBackupCode(code);
  return canonical === null ? null : hashToken(`backup:${canonical}`);
}

export function isTotpCodeShaped(input: string): boolean {
  return /^\d{6}$/.test(input.replace(/\s/g, ''));
}
