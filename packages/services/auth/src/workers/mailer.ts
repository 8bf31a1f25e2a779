import { AUTH_ACCOUNT_MAIL_TOPIC, AUTH_USER_TOPIC } from '@nova/contracts';
import { type Database, type EventConsumerSpec, typedConsumer, type Worker } from '@nova/kernel';
import type { Transaction } from 'kysely';
import type { AuthContext } from '../context.js';
import { generateToken, hashToken } from '../domain/tokens.js';
import { passwordResetMail, verificationMail } from '../mail/templates.js';
import { oneTimeTokensRepository } from '../store/one-time-tokens-repository.js';
import type { AuthTables } from '../store/tables.js';
import { usersRepository } from '../store/users-repository.js';

export const MAILER_GROUP = 'auth.mailer';
const VERIFICATION_TTL_MS = 24 * 60 * 60 * 1000;
const RESET_TTL_MS = 60 * 60 * 1000;

/**
 * Sends the mails the user events call for. The secret is created here, in
 * the consumer's transaction, so no token ever travels in an event; when the
 * mail cannot be sent the transaction (and the token) rolls back and the
 * runtime retries.
 */
export function createMailer(ctx: AuthContext): Worker {
  return ctx.eventLog.consumer(mailerConsumer(ctx, ctx.database));
}

/** What the handlers need: the mail transport and the public URL for links. */
export type MailerDeps = Pick<AuthContext, 'config' | 'mail'>;

/** The mailer's consumer definition: payloads arrive validated against their contracts. */
export function mailerConsumer(
  ctx: MailerDeps,
  database: Database<AuthTables>,
): EventConsumerSpec<AuthTables> {
  const publicUrl = ctx.config.http.publicUrl;
  return typedConsumer({
    group: MAILER_GROUP,
    // The public user topic for registrations (the address is read here, never from an
    // event), auth's internal topic for reset requests.
    topics: [AUTH_USER_TOPIC, AUTH_ACCOUNT_MAIL_TOPIC],
    database,
    handlers: {
      async 'user.registered'({ payload }, { tx }) {
        const user = await usersRepository.findById(tx, payload.userId);
        // Deleted or verified since: nothing to confirm.
        if (!user || user.emailVerifiedAt !== null) return;
        const token = await issue(tx, 'email_verifications', user.id, VERIFICATION_TTL_MS);
        await ctx.mail.send(
          verificationMail(user.email, user.username, `${publicUrl}/verify-email?token=${token}`),
        );
      },
      async 'user.password_reset_requested'({ payload }, { tx }) {
        const user = await usersRepository.findById(tx, payload.userId);
        // The address changed or the account is gone: never mail a reset link elsewhere.
        if (!user || user.email.toLowerCase() !== payload.email.toLowerCase()) return;
        const token = await issue(tx, 'password_resets', user.id, RESET_TTL_MS);
        await ctx.mail.send(
          passwordResetMail(user.email, user.username, `${publicUrl}/reset-password?token=${token}`),
        );
      },
    },
    ignore: ['user.email_verified', 'user.password_changed', 'user.deleted'],
  });
}

async function issue(
  tx: Transaction<AuthTables>,
  kind: 'email_verifications' | 'password_resets',
  userId: string,
  ttlMs: number,
): Promise<string> {
  const token = generateToken();
  await oneTimeTokensRepository.insert(tx, kind, {
    hash: hashToken(token),
    userId,
    expiresAt: new Date(Date.now() + ttlMs),
  });
  return token;
}
