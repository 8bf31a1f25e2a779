import { describe, expect, it } from 'vitest';
import {
  BACKUP_CODE_COUNT,
  canonicalBackupCode,
  generateBackupCodes,
  hashBackupCode,
} from '../../src/domain/backup-codes.js';
import { emailKey, emailProblem, normalizeEmail } from '../../src/domain/email.js';
import { normalizePassword, passwordProblem } from '../../src/domain/password-rules.js';
import { checkRegistration } from '../../src/domain/registration.js';
import { isStorableText, isWellFormedUnicode } from '../../src/domain/text.js';
import { generateToken, hashToken, TOKEN_PATTERN } from '../../src/domain/tokens.js';
import { usernameProblem } from '../../src/domain/username.js';

describe('usernames', () => {
  it.each(['bob', 'Alice_99', 'a'.repeat(30), '___'])('accepts %s', (name) => {
    expect(usernameProblem(name)).toBeNull();
  });
  it.each([
    ['ab', /3 to 30/],
    ['a'.repeat(31), /3 to 30/],
    ['bad name', /letters/],
    ['café', /letters/],
    ['a-b-c', /letters/],
    ['bob\u0000', /letters/],
    ['me', /3 to 30/],
    ['ME_', null],
    ['Settings', /reserved/],
    ['ADMIN', /reserved/],
    ['support', /reserved/],
    ['login', /reserved/],
    ['suggestions', /reserved/],
  ])('judges %j', (name, expected) => {
    const problem = usernameProblem(name);
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });
});

describe('emails', () => {
  it('normalizes by trimming and keys case-insensitively', () => {
    expect(normalizeEmail('  Bob@Example.COM ')).toBe('Bob@Example.COM');
    expect(emailKey(' Bob@Example.COM')).toBe('bob@example.com');
  });
  it.each(['a@b.co', 'first.last+tag@sub.example.org', 'ünï@exämple.de'])('accepts %s', (email) => {
    expect(emailProblem(email)).toBeNull();
  });
  it.each([
    '',
    'plain',
    'a@b',
    'a@@b.co',
    'a b@c.de',
    `${'a'.repeat(250)}@b.co`,
    'a@b.co\u0000',
    'a\u202e@b.co',
    'a\ud800@b.co',
  ])('rejects %j', (email) => {
    expect(emailProblem(email)).not.toBeNull();
  });
});

describe('passwords', () => {
  it('accepts a reasonable password', () => {
    expect(
      passwordProblem('correct horse battery', { username: 'bob', email: 'bob@example.com' }),
    ).toBeNull();
  });
  it.each([
    ['short', /at least 10/],
    ['a'.repeat(129), /at most 128/],
    ['aaaaaaaaaaaa', /repeated/],
    ['🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂', /repeated/],
    ['xxAliceSmithxx', /username/],
    ['my-mailbox-name-1', /email/],
    ['with\u0000nul-char', /not allowed/],
    ['lone\ud800surrogate', /not allowed/],
  ])('rejects %j', (password, expected) => {
    expect(passwordProblem(password, { username: 'alicesmith', email: 'mailbox-name@example.com' })).toMatch(
      expected,
    );
  });
  it('counts code points, not UTF-16 units, and normalizes to NFC', () => {
    expect(passwordProblem('🙂🙂🙂🙂🙂🙂🙂🙂🙂x')).toBeNull();
    expect(normalizePassword('e\u0301tude-longer')).toBe('\u00e9tude-longer');
  });
  it('ignores very short identities', () => {
    expect(passwordProblem('abcdefghijk', { username: 'ab_', email: 'ab@x.io' })).toBeNull();
  });
});

describe('registration', () => {
  it('reports every failing field at once', () => {
    const result = checkRegistration({ email: 'nope', username: 'x', password: 'short' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues.map((i) => i.field)).toEqual(['/email', '/username', '/password']);
  });
  it('answers the normalized input', () => {
    const result = checkRegistration({
      email: ' Bob@Example.com ',
      username: 'bob_1',
      password: 'e\u0301-long-secret',
    });
    expect(result).toEqual({
      ok: true,
      value: { email: 'Bob@Example.com', username: 'bob_1', password: '\u00e9-long-secret' },
    });
  });
});

describe('tokens', () => {
  it('are 32 random bytes in base64url, stored as a sha256', () => {
    const token = generateToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(TOKEN_PATTERN.test(token)).toBe(true);
    expect(generateToken()).not.toBe(token);
    expect(hashToken(token)).toBe(hashToken(token));
    expect(hashToken(token)).not.toBe(token);
    expect(Buffer.from(hashToken(token), 'base64url')).toHaveLength(32);
  });
});

describe('backup codes', () => {
  it('are ten distinct xxxxx-xxxxx codes', () => {
    const codes = generateBackupCodes();
    expect(codes).toHaveLength(BACKUP_CODE_COUNT);
    expect(new Set(codes).size).toBe(BACKUP_CODE_COUNT);
    for (const code of codes) expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
  });
  it('hash the same whatever case, spaces or hyphens the user types', () => {
    const [code] = generateBackupCodes(1);
    const typed = ` ${code!.toUpperCase().replace('-', ' ')} `;
    expect(canonicalBackupCode(typed)).toBe(code!.replace('-', ''));
    expect(hashBackupCode(typed)).toBe(hashBackupCode(code!));
  });
  it('reject things that are not codes', () => {
    expect(hashBackupCode('123456')).toBeNull();
    expect(hashBackupCode('aaaaa-aaaa0')).toBeNull();
  });
});

describe('text', () => {
  it('detects lone surrogates and NUL', () => {
    expect(isWellFormedUnicode('ok 🙂')).toBe(true);
    expect(isWellFormedUnicode('\udc00')).toBe(false);
    expect(isWellFormedUnicode('\ud83d')).toBe(false);
    expect(isStorableText('a\u0000b')).toBe(false);
  });
});
