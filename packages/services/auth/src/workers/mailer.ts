import { AUTH_USER_AGGREGATE, UserPasswordResetRequested, UserRegistered } from '@nova/contracts';
import { type EventLog, type EventRecord, FatalError, topicFor, type Worker } from '@nova/kernel';
import { Value } from '@sinclair/typebox/value';
import type { Transaction } from 'kysely';
import type { AuthContext } from '../context.js';
import { generateToken, hashToken } from '../domain/tokens.js';
import { passwordResetMail, verificationMail } from '../mail/templates.js';
import { insertOneTimeToken } from '../store/one-time-tokens-repository.js';
import type { AuthDb } from '../store/schema.js';
import { findUserById } from '../store/users-repository.js';

export const MAILER_GROUP = 'auth.mailer';
const VERIFICATION_TTL_MS = 24 * 60 * 60 * 1000;
const RESET_TTL_MS = 60 * 60 * 1000;

/**
 * Sends the mails the user events call for. The secret is created here, in
 * the consumer's transaction, so no token ever travels in an event; when the
 * mail cannot be sent the transaction (and the token) rolls back and the
 * runtime retries.
 */
export function createMailer(ctx: AuthContext, eventLog: EventLog): Worker {
  return eventLog.consumer<AuthDb>({
    group: MAILER_GROUP,
    topics: [topicFor(AUTH_USER_AGGREGATE)],
    database: ctx.database,
    handle: (event, { tx }) => handleUserEvent(ctx, event, tx),
  });
}

/** What the handler needs: the mail transport and the public URL for links. */
export type MailerDeps = Pick<AuthContext, 'config' | 'mail'>;

export async function handleUserEvent(
  ctx: MailerDeps,
  event: EventRecord,
  tx: Transaction<AuthDb>,
): Promise<void> {
  const publicUrl = ctx.config.http.publicUrl;
  if (event.type === 'user.registered') {
    if (!Value.Check(UserRegistered, event.payload))
      throw new FatalError(`malformed ${event.type} ${event.id}`);
    const user = await findUserById(tx, event.payload.userId);
    // Deleted or verified since: nothing to confirm.
    if (!user || user.emailVerifiedAt !== null) return;
    const token = await issue(tx, 'email_verifications', user.id, VERIFICATION_TTL_MS);
    await ctx.mail.send(
      verificationMail(user.email, user.username, `${publicUrl}/verify-email?token=${token}`),
    );
    return;
  }
  if (event.type === 'user.password_reset_requested') {
    if (!Value.Check(UserPasswordResetRequested, event.payload))
      throw new FatalError(`malformed ${event.type} ${event.id}`);
    const user = await findUserById(tx, event.payload.userId);
    // The address changed or the account is gone: never mail a reset link elsewhere.
    if (!user || user.email.toLowerCase() !== event.payload.email.toLowerCase()) return;
    const token = await issue(tx, 'password_resets', user.id, RESET_TTL_MS);
    await ctx.mail.send(
      passwordResetMail(user.email, user.username, `${publicUrl}/reset-password?token=${token}`),
    );
  }
}

async function issue(
  tx: Transaction<AuthDb>,
  kind: 'email_verifications' | 'password_resets',
  userId: string,
  ttlMs: number,
): Promise<string> {
  const token = generateToken();
  await insertOneTimeToken(tx, kind, {
    hash: hashToken(token),
    userId,
    expiresAt: new Date(Date.now() + ttlMs),
  });
  return token;
}
