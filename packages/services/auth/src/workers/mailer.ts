import { AUTH_ACCOUNT_MAIL_TOPIC, AUTH_USER_TOPIC } from '@nova/contracts';
import { type Database, type EventConsumerSpec, typedConsumer, type Worker } from '@nova/kernel';
import type { Transaction } from 'kysely';
import type { AuthContext } from '../context.js';
import { hashToken } from '../domain/tokens.js';
import { passwordResetMail, verificationMail } from '../mail/templates.js';
import { oneTimeTokensRepository } from '../store/one-time-tokens-repository.js';
import type { AuthTables } from '../store/tables.js';
import { usersRepository } from '../store/users-repository.js';

export const MAILER_GROUP = 'auth.mailer';
const VERIFICATION_TTL_MS = 24 * 60 * 60 * 1000;
const RESET_TTL_MS = 60 * 60 * 1000;

/**
 * Sends the mails the user events call for. The secret is made here, from
 * the event's id under the auth encryption key, and stored in the consumer's
 * transaction, so no token ever travels in an event; when the mail cannot be
 * sent the transaction rolls back and the runtime retries with the same token.
 */
export function createMailer(ctx: AuthContext): Worker {
  return ctx.eventLog.consumer(mailerConsumer(ctx, ctx.database));
}

/** What the handlers need: the mail transport and the public URL for links. */
export type MailerDeps = Pick<AuthContext, 'config' | 'mail' | 'secretBox'>;

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
      async 'user.registered'({ id, payload }, { tx }) {
        const user = await usersRepository.findById(tx, payload.userId);
        // Deleted or verified since: nothing to confirm.
        if (!user || user.emailVerifiedAt !== null) return;
        const token = await issue(ctx, tx, 'email_verifications', id, user.id, VERIFICATION_TTL_MS);
        await ctx.mail.send(
          verificationMail(user.email, user.username, `${publicUrl}/verify-email?token=${token}`),
        );
      },
      async 'user.password_reset_requested'({ id, payload }, { tx }) {
        const user = await usersRepository.findById(tx, payload.userId);
        // The address changed or the account is gone: never mail a reset link elsewhere.
        if (!user || user.email.toLowerCase() !== payload.email.toLowerCase()) return;
        const token = await issue(ctx, tx, 'password_resets', id, user.id, RESET_TTL_MS);
        await ctx.mail.send(
          passwordResetMail(user.email, user.username, `${publicUrl}/reset-password?token=${token}`),
        );
      },
    },
    ignore: ['user.email_verified', 'user.password_changed', 'user.deleted'],
  });
}

/**
 * The mail goes out before the consumer's transaction commits, and that
 * transaction may still roll back and run again (a batch retried because of
 * another event, a lost connection). So the token is derived from the event:
 * every attempt mails the same link, and the attempt that commits makes it
 * valid — a random token per attempt left the first mail's link dead.
 */
async function issue(
  ctx: MailerDeps,
  tx: Transaction<AuthTables>,
  kind: 'email_verifications' | 'password_resets',
  eventId: string,
  userId: string,
  ttlMs: number,
): Promise<string> {
  const token = ctx.secretBox.derive(`mail-token:${kind}`, eventId);
  await oneTimeTokensRepository.insert(tx, kind, {
    hash: hashToken(token),
    userId,
    expiresAt: new Date(Date.now() + ttlMs),
  });
  return token;
}
