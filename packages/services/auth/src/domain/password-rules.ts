import { emailLocalPart } from './email.js';
import { isWellFormedUnicode } from './text.js';

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 128;
/** Raw request limit: generous so normalization, not the schema, decides. */
export const PASSWORD_RAW_MAX = 1024;
// Short local parts ("a@x.io") are too common to forbid inside passwords.
const MIN_IDENTITY_LENGTH = 3;

/** NFC so the same password typed on two keyboards hashes the same. */
export function normalizePassword(password: string): string {
  return password.normalize('NFC');
}

export interface PasswordOwner {
  username?: string;
  email?: string;
}

/** The problem with a (normalized) password, or null when acceptable. */
export function passwordProblem(password: string, owner: PasswordOwner = {}): string | null {
  if (!isWellFormedUnicode(password) || password.includes('\u0000')) {
    return 'contains characters that are not allowed';
  }
  const length = [...password].length;
  if (length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters long`;
  if (length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters long`;
  if (new Set(password).size === 1) return 'must not be a single repeated character';
  const lower = password.toLowerCase();
  const identities = [owner.username, owner.email ? emailLocalPart(owner.email) : undefined];
  for (const identity of identities) {
    if (identity && identity.length >= MIN_IDENTITY_LENGTH && lower.includes(identity.toLowerCase())) {
      return identity === owner.username
        ? 'must not contain the username'
        : 'must not contain the email address';
    }
  }
  return null;
}
