import { randomBytes, randomUUID } from 'node:crypto';
import { createLogger, type EventRecord, TransientError } from '@nova/kernel';
import { testConfig } from '@nova/kernel/testing';
import type { Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authConfigOf } from '../../src/config.js';
import { hashToken } from '../../src/domain/tokens.js';
import { authModule } from '../../src/index.js';
import { createSecretBox } from '../../src/keys/secret-box.js';
import type { MailMessage, MailTransport } from '../../src/mail/mail-transport.js';
import { oneTimeTokensRepository } from '../../src/store/one-time-tokens-repository.js';
import type { AuthTables } from '../../src/store/tables.js';
import { usersRepository } from '../../src/store/users-repository.js';
import { type MailerDeps, mailerConsumer } from '../../src/workers/mailer.js';
import { AUTH_DATABASE_KINDS, type OpenedAuthDatabase, openAuthDatabase } from '../support/databases.js';

function recordingTransport(fail = false): MailTransport & { sent: MailMessage[] } {
  const sent: MailMessage[] = [];
  return {
    kind: 'file',
    sent,
    async send(message) {
      if (fail) throw new TransientError('smtp down');
      sent.push(message);
    },
    close() {},
  };
}

const event = (type: string, payload: unknown) => ({
  id: randomUUID(),
  topic: type === 'user.password_reset_requested' ? 'nova.auth.account_mail.v1' : 'nova.auth.user.v1',
  key: 'k',
  type,
  payload,
  timestamp: new Date().toISOString(),
});

describe.each(AUTH_DATABASE_KINDS)('mailer on %s', (kind) => {
  const log = createLogger('silent');
  /** Runs an event as the consumer runtime would after validating it: ignored types never reach a handler. */
  const handleUserEvent = async (deps: MailerDeps, record: EventRecord, tx: Transaction<AuthTables>) => {
    const spec = mailerConsumer(deps, opened.database);
    if (spec.ignores?.(record.type)) return;
    await spec.handle(record, { tx, attempt: 1, log });
  };

  let opened: OpenedAuthDatabase;
  const config = authConfigOf(testConfig({ NOVA_PUBLIC_URL: 'https://nova.example' }, [authModule]));
  const secretBox = createSecretBox(randomBytes(32));

  beforeAll(async () => {
    opened = await openAuthDatabase(kind);
  });
  afterAll(async () => {
    await opened?.close();
  });

  const newUser = async () => {
    const name = `m${randomUUID().slice(0, 8)}`;
    return usersRepository.insert(opened.database.db, {
      id: randomUUID(),
      email: `${name}@example.com`,
      username: name,
      passwordHash: 'h',
    });
  };
  const countTokens = async (table: 'email_verifications' | 'password_resets', userId: string) =>
    (await opened.database.db.selectFrom(table).select('token_hash').where('user_id', '=', userId).execute())
      .length;

  it('a handling rolled back after its mail went out leaves the link of that mail working once the retry commits', async () => {
    const user = await newUser();
    const mail = recordingTransport();
    const registered = event('user.registered', {
      userId: user.id,
      username: user.username,
      createdAt: user.createdAt,
    });
    // First attempt: the mail is sent, then the transaction fails (another event of its batch, a lost connection).
    await expect(
      opened.database.transaction(async (tx) => {
        await handleUserEvent({ config, mail, secretBox }, registered, tx);
        throw new TransientError('batch failed after the mail');
      }),
    ).rejects.toThrow('batch failed after the mail');
    expect(await countTokens('email_verifications', user.id)).toBe(0);
    await opened.database.transaction((tx) => handleUserEvent({ config, mail, secretBox }, registered, tx));
    expect(mail.sent).toHaveLength(2);
    const tokens = mail.sent.map((m) => /verify-email\?token=([A-Za-z0-9_-]{43})/.exec(m.text)?.[1]);
    expect(tokens[0]).toBeDefined();
    expect(tokens[1]).toBe(tokens[0]);
    expect(await countTokens('email_verifications', user.id)).toBe(1);
    // The first mail's link, the one the user may open first, works.
    expect(
      await oneTimeTokensRepository.claim(opened.database.db, 'email_verifications', hashToken(tokens[0]!)),
    ).toBe(user.id);
    // Another event (another registration mail) gets another token.
    await opened.database.transaction((tx) =>
      handleUserEvent({ config, mail, secretBox }, { ...registered, id: randomUUID() }, tx),
    );
    const third = /verify-email\?token=([A-Za-z0-9_-]{43})/.exec(mail.sent[2]?.text ?? '')?.[1];
    expect(third).toBeDefined();
    expect(third).not.toBe(tokens[0]);
  });

  it('mails a working verification link; the token exists only as its hash', async () => {
    const user = await newUser();
    const mail = recordingTransport();
    await opened.database.transaction((tx) =>
      handleUserEvent(
        { config, mail, secretBox },
        event('user.registered', {
          userId: user.id,
          username: user.username,
          createdAt: user.createdAt,
        }),
        tx,
      ),
    );
    expect(mail.sent).toHaveLength(1);
    expect(mail.sent[0]!.to).toBe(user.email);
    const token = /https:\/\/nova\.example\/verify-email\?token=([A-Za-z0-9_-]{43})/.exec(
      mail.sent[0]!.text,
    )?.[1];
    expect(token).toBeDefined();
    const stored = await opened.database.db
      .selectFrom('email_verifications')
      .select('token_hash')
      .where('user_id', '=', user.id)
      .execute();
    expect(stored).toEqual([{ token_hash: hashToken(token!) }]);
    expect(
      await oneTimeTokensRepository.claim(opened.database.db, 'email_verifications', hashToken(token!)),
    ).toBe(user.id);
  });

  it('rolls the token back when the mail cannot be sent (the runtime retries)', async () => {
    const user = await newUser();
    const mail = recordingTransport(true);
    await expect(
      opened.database.transaction((tx) =>
        handleUserEvent(
          { config, mail, secretBox },
          event('user.password_reset_requested', { userId: user.id, email: user.email }),
          tx,
        ),
      ),
    ).rejects.toBeInstanceOf(TransientError);
    expect(await countTokens('password_resets', user.id)).toBe(0);
  });

  it('sends nothing for verified, deleted or re-addressed accounts, and ignores other events', async () => {
    const verified = await newUser();
    await usersRepository.markEmailVerified(opened.database.db, verified.id);
    const mail = recordingTransport();
    await opened.database.transaction(async (tx) => {
      await handleUserEvent(
        { config, mail, secretBox },
        event('user.registered', {
          userId: verified.id,
          username: verified.username,
          createdAt: verified.createdAt,
        }),
        tx,
      );
      await handleUserEvent(
        { config, mail, secretBox },
        event('user.registered', {
          userId: randomUUID(),
          username: 'gone',
          createdAt: new Date().toISOString(),
        }),
        tx,
      );
      await handleUserEvent(
        { config, mail, secretBox },
        event('user.password_reset_requested', { userId: verified.id, email: 'old@example.com' }),
        tx,
      );
      await handleUserEvent(
        { config, mail, secretBox },
        event('user.deleted', { userId: verified.id, deletedAt: new Date().toISOString() }),
        tx,
      );
    });
    expect(mail.sent).toEqual([]);
    expect(await countTokens('email_verifications', verified.id)).toBe(0);
    expect(await countTokens('password_resets', verified.id)).toBe(0);
  });

  it('handles the mail-worthy user events and names every other type of its topic', () => {
    const spec = mailerConsumer({ config, mail: recordingTransport(), secretBox }, opened.database);
    expect(spec.topics).toEqual(['nova.auth.user.v1', 'nova.auth.account_mail.v1']);
    for (const type of ['user.email_verified', 'user.password_changed', 'user.deleted'])
      expect(spec.ignores?.(type)).toBe(true);
    for (const type of ['user.registered', 'user.password_reset_requested'])
      expect(spec.ignores?.(type)).toBe(false);
  });
});
