import { randomUUID } from 'node:crypto';
import type { Database } from '@nova/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken, hashToken } from '../../src/domain/tokens.js';
import { loadAccounts } from '../../src/seed/load-accounts.js';
import { oneTimeTokensRepository } from '../../src/store/one-time-tokens-repository.js';
import { sessionsRepository } from '../../src/store/sessions-repository.js';
import type { AuthTables } from '../../src/store/tables.js';
import { twoFactorRepository } from '../../src/store/two-factor-repository.js';
import { usersRepository } from '../../src/store/users-repository.js';
import { AUTH_DATABASE_KINDS, type OpenedAuthDatabase, openAuthDatabase } from '../support/databases.js';

describe.each(AUTH_DATABASE_KINDS)('auth repositories on %s', (kind) => {
  let opened: OpenedAuthDatabase;
  let database: Database<AuthTables>;

  beforeAll(async () => {
    opened = await openAuthDatabase(kind);
    database = opened.database;
  });
  afterAll(async () => {
    await opened?.close();
  });

  const newUser = async (name = `u${randomUUID().slice(0, 8)}`) =>
    usersRepository.insert(database.db, {
      id: randomUUID(),
      email: `${name}@Example.com`,
      username: name,
      passwordHash: 'h',
    });

  const newSession = async (userId: string, expiresInMs = 60_000) => {
    const id = randomUUID();
    await sessionsRepository.insert(database.db, {
      id,
      userId,
      expiresAt: new Date(Date.now() + expiresInMs),
      userAgent: 'vitest',
      ip: '127.0.0.1',
    });
    return id;
  };

  it('keeps emails and usernames unique case-insensitively, naming the conflict', async () => {
    const user = await newUser('CaseUser');
    await expect(
      usersRepository.insert(database.db, {
        id: randomUUID(),
        email: 'caseuser@EXAMPLE.com',
        username: 'other1',
        passwordHash: 'h',
      }),
    ).rejects.toMatchObject({ status: 409, code: 'email_taken' });
    await expect(
      usersRepository.insert(database.db, {
        id: randomUUID(),
        email: 'fresh@example.com',
        username: 'CASEUSER',
        passwordHash: 'h',
      }),
    ).rejects.toMatchObject({ status: 409, code: 'username_taken' });
    expect((await usersRepository.findByLogin(database.db, 'caseuser'))?.id).toBe(user.id);
    expect((await usersRepository.findByLogin(database.db, 'CASEUSER@example.COM'))?.id).toBe(user.id);
    expect(await usersRepository.findByLogin(database.db, 'nobody')).toBeNull();
  });

  it('reads any number of accounts in one query', async () => {
    const users = await Promise.all([newUser(), newUser(), newUser()]);
    const before = database.stats.queries;
    const found = await usersRepository.findByIds(database.db, [
      ...users.map((u) => u.id),
      randomUUID(),
      'not-a-uuid',
    ]);
    expect(database.stats.queries - before).toBe(1);
    expect(found.map((u) => u.id).sort()).toEqual(users.map((u) => u.id).sort());
    expect(await usersRepository.findByIds(database.db, [])).toEqual([]);
  });

  it('lets exactly one of 10 concurrent claims of a refresh token win', async () => {
    const user = await newUser();
    const sessionId = await newSession(user.id);
    const hash = hashToken(generateToken());
    await sessionsRepository.insertRefreshToken(database.db, hash, sessionId);
    const claims = await Promise.all(
      Array.from({ length: 10 }, () =>
        database.transaction((tx) => sessionsRepository.claimRefreshToken(tx, hash)),
      ),
    );
    const winners = claims.filter((c) => c !== null);
    expect(winners).toEqual([{ sessionId, userId: user.id, sessionActive: true }]);
    expect(await sessionsRepository.claimRefreshToken(database.db, hash)).toBeNull();
    expect(await sessionsRepository.findRefreshTokenFamily(database.db, hash)).toEqual({
      sessionId,
      userId: user.id,
      sessionActive: true,
      usedWithinGrace: false,
    });
    // Just used: inside a grace period the duplicate is recognised as a race, not a theft.
    expect((await sessionsRepository.findRefreshTokenFamily(database.db, hash, 60))?.usedWithinGrace).toBe(
      true,
    );
  });

  it('burns a token of a revoked or expired family but reports the family inactive', async () => {
    const user = await newUser();
    const revoked = await newSession(user.id);
    const expired = await newSession(user.id, -1000);
    const [a, b] = [hashToken(generateToken()), hashToken(generateToken())];
    await sessionsRepository.insertRefreshToken(database.db, a, revoked);
    await sessionsRepository.insertRefreshToken(database.db, b, expired);
    expect(await sessionsRepository.revoke(database.db, revoked, user.id)).toBe(true);
    expect(await sessionsRepository.revoke(database.db, revoked, user.id)).toBe(false);
    expect((await sessionsRepository.claimRefreshToken(database.db, a))?.sessionActive).toBe(false);
    expect((await sessionsRepository.claimRefreshToken(database.db, b))?.sessionActive).toBe(false);
  });

  it('lists active sessions newest first with keyset pages and revokes all but one', async () => {
    const user = await newUser();
    const other = await newUser();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await newSession(user.id));
    await newSession(user.id, -1000);
    const foreign = await newSession(other.id);
    expect(await sessionsRepository.revoke(database.db, foreign, user.id)).toBe(false);
    const first = await sessionsRepository.listActive(database.db, user.id, 2);
    expect(first).toHaveLength(2);
    const last = first[1]!;
    const second = await sessionsRepository.listActive(database.db, user.id, 2, {
      createdAt: last.createdAt,
      id: last.id,
    });
    expect([...first, ...second].map((s) => s.id).sort()).toEqual([...ids].sort());
    const revoked = await sessionsRepository.revokeAllOf(database.db, user.id, ids[0]);
    expect(revoked.sort()).toEqual([ids[1], ids[2]].sort());
    expect((await sessionsRepository.listActive(database.db, user.id, 10)).map((s) => s.id)).toEqual([
      ids[0],
    ]);
  });

  it('uses one-time tokens once and never after expiry', async () => {
    const user = await newUser();
    const hash = hashToken(generateToken());
    const stale = hashToken(generateToken());
    await oneTimeTokensRepository.insert(database.db, 'email_verifications', {
      hash,
      userId: user.id,
      expiresAt: new Date(Date.now() + 60_000),
    });
    await oneTimeTokensRepository.insert(database.db, 'password_resets', {
      hash: stale,
      userId: user.id,
      expiresAt: new Date(Date.now() - 1),
    });
    const claims = await Promise.all(
      [1, 2, 3].map(() => oneTimeTokensRepository.claim(database.db, 'email_verifications', hash)),
    );
    expect(claims.filter((c) => c !== null)).toEqual([user.id]);
    expect(await oneTimeTokensRepository.claim(database.db, 'password_resets', stale)).toBeNull();
    expect(await oneTimeTokensRepository.claim(database.db, 'password_resets', hash)).toBeNull();
    expect((await usersRepository.markEmailVerified(database.db, user.id))?.emailVerifiedAt).not.toBeNull();
    expect(await usersRepository.markEmailVerified(database.db, user.id)).toBeNull();
  });

  it('refuses replayed TOTP steps and reused backup codes', async () => {
    const user = await newUser();
    expect(await twoFactorRepository.savePendingTotp(database.db, user.id, 'sealed-1')).toBe(true);
    expect(await twoFactorRepository.savePendingTotp(database.db, user.id, 'sealed-2')).toBe(true);
    expect(await twoFactorRepository.claimTotpStep(database.db, user.id, 100)).toBe(false); // not enabled yet
    expect(await twoFactorRepository.enableTotp(database.db, user.id, 100)).toBe(true);
    expect(await twoFactorRepository.savePendingTotp(database.db, user.id, 'sealed-3')).toBe(false);
    expect(await twoFactorRepository.findTotp(database.db, user.id)).toEqual({
      secretEncrypted: 'sealed-2',
      enabled: true,
      lastUsedStep: 100,
    });
    expect(await twoFactorRepository.claimTotpStep(database.db, user.id, 100)).toBe(false);
    expect(await twoFactorRepository.claimTotpStep(database.db, user.id, 101)).toBe(true);
    expect(await twoFactorRepository.claimTotpStep(database.db, user.id, 100)).toBe(false);
    await twoFactorRepository.replaceBackupCodes(database.db, user.id, ['c1', 'c2']);
    expect(await twoFactorRepository.claimBackupCode(database.db, user.id, 'c1')).toBe(true);
    expect(await twoFactorRepository.claimBackupCode(database.db, user.id, 'c1')).toBe(false);
    expect(await twoFactorRepository.claimBackupCode(database.db, user.id, 'nope')).toBe(false);
  });

  it('cascades a user deletion to every auth row', async () => {
    const user = await newUser();
    const sessionId = await newSession(user.id);
    await sessionsRepository.insertRefreshToken(database.db, hashToken(generateToken()), sessionId);
    await oneTimeTokensRepository.insert(database.db, 'password_resets', {
      hash: hashToken(generateToken()),
      userId: user.id,
      expiresAt: new Date(),
    });
    await twoFactorRepository.savePendingTotp(database.db, user.id, 'sealed');
    await twoFactorRepository.replaceBackupCodes(database.db, user.id, ['c1']);
    expect((await usersRepository.delete(database.db, user.id))?.id).toBe(user.id);
    const counts = await Promise.all(
      (['sessions', 'password_resets', 'totp', 'backup_codes'] as const).map(async (table) =>
        Number(
          (
            await database.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll().as('n'))
              .where('user_id', '=', user.id)
              .executeTakeFirstOrThrow()
          ).n,
        ),
      ),
    );
    expect(counts).toEqual([0, 0, 0, 0]);
    const tokens = await database.db
      .selectFrom('refresh_tokens')
      .select('token_hash')
      .where('session_id', '=', sessionId)
      .execute();
    expect(tokens).toEqual([]);
    expect(await usersRepository.delete(database.db, user.id)).toBeNull();
  });

  it('bulk-loads verified accounts sharing one hash, skipping existing ones', async () => {
    const prefix = randomUUID().slice(0, 6);
    const accounts = Array.from({ length: 4500 }, (_, i) => ({
      id: randomUUID(),
      username: `s${prefix}${i}`,
      email: `s${prefix}${i}@seed.test`,
    }));
    const progress: number[] = [];
    expect(
      await loadAccounts(database as Database<unknown>, accounts, 'shared-hash', (n) => progress.push(n)),
    ).toBe(4500);
    expect(progress).toEqual([2000, 4000, 4500]);
    expect(await loadAccounts(database as Database<unknown>, accounts.slice(0, 10), 'shared-hash')).toBe(0);
    const sample = await usersRepository.findByLogin(database.db, accounts[4499]!.username);
    expect(sample?.emailVerifiedAt).not.toBeNull();
    expect(sample?.passwordHash).toBe('shared-hash');
  });
});
