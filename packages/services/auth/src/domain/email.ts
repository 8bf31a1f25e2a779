import { hasBidiControls, hasControlCharacters, isWellFormedUnicode } from './text.js';

export const EMAIL_MAX = 254;

// Deliberately loose (the verification mail is the real check), but strict
// enough that the value is one address: one @, a dotted domain, no spaces.
const EMAIL_PATTERN = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/;

/** Trimmed; the stored form keeps the user's case, uniqueness uses lower(). */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC');
}

/** The key uniqueness and lookup use. */
export function emailKey(email: string): string {
  return normalizeEmail(email).toLowerCase();
}

/** The problem with an (already normalized) address, or null. */
export function emailProblem(email: string): string | null {
  if (email.length === 0) return 'is required';
  if (email.length > EMAIL_MAX) return `must be at most ${EMAIL_MAX} characters`;
  if (!isWellFormedUnicode(email) || hasControlCharacters(email) || hasBidiControls(email)) {
    return 'contains characters that are not allowed';
  }
  if (!EMAIL_PATTERN.test(email)) return 'is not a valid email address';
  return null;
}

export function emailLocalPart(email: string): string {
  const at = email.lastIndexOf('@');
  return at === -1 ? email : email.slice(0, at);
}
