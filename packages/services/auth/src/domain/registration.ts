import type { FieldIssue } from '@nova/kernel';
import { emailProblem, normalizeEmail } from './email.js';
import { normalizePassword, passwordProblem } from './password-rules.js';
import { usernameProblem } from './username.js';

export interface RegistrationInput {
  email: string;
  username: string;
  password: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

/** Every rule of a new account at once, so the client sees all field errors together. */
export function checkRegistration(input: RegistrationInput): Checked<RegistrationInput> {
  const email = normalizeEmail(input.email);
  const username = input.username;
  const password = normalizePassword(input.password);
  const issues: FieldIssue[] = [];
  const emailIssue = emailProblem(email);
  if (emailIssue) issues.push({ field: '/email', message: `email ${emailIssue}` });
  const usernameIssue = usernameProblem(username);
  if (usernameIssue) issues.push({ field: '/username', message: `username ${usernameIssue}` });
  const passwordIssue = passwordProblem(password, { username, email });
  if (passwordIssue) issues.push({ field: '/password', message: `password ${passwordIssue}` });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: { email, username, password } };
}
