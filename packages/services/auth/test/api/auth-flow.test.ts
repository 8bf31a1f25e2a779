import { randomUUID } from 'node:crypto';
import { stepWithMargin } from '@nova/kernel/testing';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailToken } from '../support/mailbox.js';
import { SHAPES } from '../support/shapes.js';
import { type AuthServer, startAuth } from '../support/start-auth.js';

const PASSWORD = 'correct horse battery';

describe.each(SHAPES)('auth routes ($name)', (shape) => {
  let server: AuthServer;

  beforeAll(async () => {
    server = await startAuth({
      ...shape,
      // No grace for duplicate refreshes here: reuse is detected at once (refresh-races.test.ts covers the grace).
      env: { LOGIN_MAX_FAILURES: '3', LOGIN_MAX_FAILURES_PER_IP: '1000', REFRESH_REUSE_GRACE_SECONDS: '0' },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const call = (...args: Parameters<AuthServer['call']>) => server.call(...args);
  let counter = 0;
  const identity = () => {
    counter += 1;
    const name = `user_${randomUUID().slice(0, 8)}${counter}`;
    return { username: name, email: `${name}@Example.com`, password: PASSWORD };
  };
  const registerUser = async () => {
    const who = identity();
    const response = await call('POST', '/api/v1/auth/register', { body: who });
    expect(response.status).toBe(201);
    return { ...who, id: response.body.user.id as string };
  };
  const login = async (loginName: string, password = PASSWORD, headers: Record<string, string> = {}) =>
    call('POST', '/api/v1/auth/login', { body: { login: loginName, password }, headers });
  const loginTokens = async (loginName: string, password = PASSWORD) => {
    const response = await login(loginName, password);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    return response.body as { accessToken: string; refreshToken: string };
  };
  const expectProblem = (
    response: { status: number; headers: Headers; body: { code?: string } },
    status: number,
    code?: string,
  ) => {
    expect(response.status, JSON.stringify(response.body)).toBe(status);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    if (code) expect(response.body.code).toBe(code);
  };

  it('registers, mails a verification link, verifies once', async () => {
    const who = identity();
    const created = await call('POST', '/api/v1/auth/register', { body: who });
    expect(created.status).toBe(201);
    expect(created.body.user).toEqual({
      id: expect.any(String),
      email: who.email,
      username: who.username,
      emailVerified: false,
      createdAt: expect.any(String),
    });
    expectProblem(
      await call('POST', '/api/v1/auth/register', {
        body: { ...who, username: `${who.username}x`, email: who.email.toUpperCase() },
      }),
      409,
      'email_taken',
    );
    expectProblem(
      await call('POST', '/api/v1/auth/register', {
        body: { ...who, email: `other.${who.email}`, username: who.username.toUpperCase() },
      }),
      409,
      'username_taken',
    );
    const token = await mailToken(server, who.email, '/verify-email');
    const verified = await call('POST', '/api/v1/auth/verify-email', { body: { token } });
    expect(verified.status).toBe(200);
    expect(verified.body.user.emailVerified).toBe(true);
    expectProblem(await call('POST', '/api/v1/auth/verify-email', { body: { token } }), 400, 'invalid_token');
    expectProblem(
      await call('POST', '/api/v1/auth/verify-email', { body: { token: 'x'.repeat(43) } }),
      400,
      'invalid_token',
    );
    const {
      accounts: [account],
    } = await server.api.getAccounts({ ids: [created.body.user.id, randomUUID()] });
    expect(account).toMatchObject({ id: created.body.user.id, emailVerified: true });
  });

  it('logs in by username or email alike; unknown user and wrong password answer the same 401', async () => {
    const user = await registerUser();
    const byName = await login(user.username.toUpperCase(), PASSWORD, { 'user-agent': 'flow-test/1.0' });
    expect(byName.status).toBe(200);
    expect(byName.body).toEqual({
      accessToken: expect.any(String),
      refreshToken: expect.any(String),
      expiresIn: 900,
      tokenType: 'Bearer',
    });
    expect((await login(user.email.toLowerCase())).status).toBe(200);
    const wrong = await login(user.username, 'wrong password!');
    const unknown = await login(`nobody_${randomUUID().slice(0, 6)}`, PASSWORD);
    expectProblem(wrong, 401, 'invalid_credentials');
    expectProblem(unknown, 401, 'invalid_credentials');
    expect(wrong.body.detail).toBe(unknown.body.detail);

    const sessions = await call('GET', '/api/v1/auth/sessions', { token: byName.body.accessToken });
    expect(sessions.status).toBe(200);
    expect(sessions.body.items).toHaveLength(2);
    expect(sessions.body.items.filter((s: { current: boolean }) => s.current)).toEqual([
      expect.objectContaining({ userAgent: 'flow-test/1.0', ip: '127.0.0.1' }),
    ]);
    const page = await call('GET', '/api/v1/auth/sessions?limit=1', { token: byName.body.accessToken });
    expect(page.body.items).toHaveLength(1);
    const next = await call('GET', `/api/v1/auth/sessions?limit=1&cursor=${page.body.nextCursor}`, {
      token: byName.body.accessToken,
    });
    expect(next.body.items).toHaveLength(1);
    expect(next.body.items[0].id).not.toBe(page.body.items[0].id);
    expect(next.body.nextCursor).toBeNull();
    expectProblem(
      await call('GET', '/api/v1/auth/sessions?cursor=bogus', { token: byName.body.accessToken }),
      400,
      'invalid_cursor',
    );
    expectProblem(await call('GET', '/api/v1/auth/sessions'), 401);
  });

  it('issues access tokens the published JWKS verifies', async () => {
    const user = await registerUser();
    const { accessToken } = await loginTokens(user.username);
    const jwks = await call('GET', '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get('cache-control')).toContain('max-age=300');
    expect(jwks.body.keys[0]).toMatchObject({
      kty: 'OKP',
      crv: 'Ed25519',
      alg: 'EdDSA',
      use: 'sig',
      kid: expect.any(String),
    });
    expect(JSON.stringify(jwks.body)).not.toContain('"d"');
    const { payload, protectedHeader } = await jwtVerify(accessToken, createLocalJWKSet(jwks.body), {
      issuer: 'nova',
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: jwks.body.keys[0].kid });
    expect(payload).toMatchObject({ sub: user.id, sid: expect.any(String), jti: expect.any(String) });
    expect(payload.exp! - payload.iat!).toBe(900);
  });

  it('rotates refresh tokens; reusing one revokes the whole family at once', async () => {
    const user = await registerUser();
    const first = await loginTokens(user.username);
    const rotated = await call('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: first.refreshToken },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(first.refreshToken);
    expect((await call('GET', '/api/v1/auth/sessions', { token: rotated.body.accessToken })).status).toBe(
      200,
    );

    expectProblem(
      await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: first.refreshToken } }),
      401,
      'refresh_token_reused',
    );
    // The family is gone: the newest refresh token and every access token of it stop.
    expectProblem(
      await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } }),
      401,
    );
    expectProblem(
      await call('GET', '/api/v1/auth/sessions', { token: rotated.body.accessToken }),
      401,
      'invalid_token',
    );
    expectProblem(
      await call('GET', '/api/v1/auth/sessions', { token: first.accessToken }),
      401,
      'invalid_token',
    );
    expectProblem(
      await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: 'A'.repeat(43) } }),
      401,
      'invalid_refresh_token',
    );
  });

  it('without a grace period, lets exactly one of concurrent refreshes with one token succeed', async () => {
    const user = await registerUser();
    const { refreshToken } = await loginTokens(user.username);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => call('POST', '/api/v1/auth/refresh', { body: { refreshToken } })),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 401)).toHaveLength(9);
  });

  it('logout stops the access token and its refresh family at once', async () => {
    const user = await registerUser();
    const kept = await loginTokens(user.username);
    const ended = await loginTokens(user.username);
    const out = await call('POST', '/api/v1/auth/logout', { token: ended.accessToken });
    expect(out.status).toBe(204);
    expectProblem(
      await call('GET', '/api/v1/auth/sessions', { token: ended.accessToken }),
      401,
      'invalid_token',
    );
    expectProblem(
      await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: ended.refreshToken } }),
      401,
    );
    const sessions = await call('GET', '/api/v1/auth/sessions', { token: kept.accessToken });
    expect(sessions.body.items).toHaveLength(1);
  });

  it('revokes one session by id, and only the caller’s', async () => {
    const alice = await registerUser();
    const bob = await registerUser();
    const a1 = await loginTokens(alice.username);
    const a2 = await loginTokens(alice.username);
    const b1 = await loginTokens(bob.username);
    const list = await call('GET', '/api/v1/auth/sessions', { token: a1.accessToken });
    const other = list.body.items.find((s: { current: boolean }) => !s.current);
    const bobs = (await call('GET', '/api/v1/auth/sessions', { token: b1.accessToken })).body.items[0];
    expectProblem(
      await call('DELETE', `/api/v1/auth/sessions/${bobs.id}`, { token: a1.accessToken }),
      404,
      'session_not_found',
    );
    expectProblem(await call('DELETE', '/api/v1/auth/sessions/not-a-uuid', { token: a1.accessToken }), 404);
    expect(
      (await call('DELETE', `/api/v1/auth/sessions/${other.id}`, { token: a1.accessToken })).status,
    ).toBe(204);
    expectProblem(await call('GET', '/api/v1/auth/sessions', { token: a2.accessToken }), 401);
    expect((await call('GET', '/api/v1/auth/sessions', { token: b1.accessToken })).status).toBe(200);
  });

  it('changing the password revokes every other session', async () => {
    const user = await registerUser();
    const here = await loginTokens(user.username);
    const elsewhere = await loginTokens(user.username);
    const newPassword = 'a brand new passphrase';
    expectProblem(
      await call('POST', '/api/v1/auth/password/change', {
        token: here.accessToken,
        body: { currentPassword: 'not the password', newPassword },
      }),
      400,
      'invalid_current_password',
    );
    expectProblem(
      await call('POST', '/api/v1/auth/password/change', {
        token: here.accessToken,
        body: { currentPassword: PASSWORD, newPassword: `x${user.username}x` },
      }),
      400,
      'validation_failed',
    );
    const changed = await call('POST', '/api/v1/auth/password/change', {
      token: here.accessToken,
      body: { currentPassword: PASSWORD, newPassword },
    });
    expect(changed.status).toBe(204);
    expectProblem(await call('GET', '/api/v1/auth/sessions', { token: elsewhere.accessToken }), 401);
    expectProblem(
      await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: elsewhere.refreshToken } }),
      401,
    );
    expect((await call('GET', '/api/v1/auth/sessions', { token: here.accessToken })).status).toBe(200);
    expect(
      (await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: here.refreshToken } })).status,
    ).toBe(200);
    expectProblem(await login(user.username), 401, 'invalid_credentials');
    expect((await login(user.username, newPassword)).status).toBe(200);
  });

  it('resets a forgotten password with the mailed single-use token; never tells whether the account exists', async () => {
    const user = await registerUser();
    const before = await loginTokens(user.username);
    const unknown = await call('POST', '/api/v1/auth/password/forgot', {
      body: { email: `ghost${randomUUID()}@example.com` },
    });
    const known = await call('POST', '/api/v1/auth/password/forgot', {
      body: { email: user.email.toUpperCase() },
    });
    expect(unknown.status).toBe(202);
    expect(known.status).toBe(202);
    expect(known.body).toEqual(unknown.body);
    const token = await mailToken(server, user.email, '/reset-password');
    expectProblem(
      await call('POST', '/api/v1/auth/password/reset', { body: { token, newPassword: 'short' } }),
      400,
      'validation_failed',
    );
    const newPassword = 'reset to something long';
    expect((await call('POST', '/api/v1/auth/password/reset', { body: { token, newPassword } })).status).toBe(
      204,
    );
    expectProblem(
      await call('POST', '/api/v1/auth/password/reset', {
        body: { token, newPassword: 'yet another password' },
      }),
      400,
      'invalid_token',
    );
    expectProblem(await call('GET', '/api/v1/auth/sessions', { token: before.accessToken }), 401);
    expectProblem(
      await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: before.refreshToken } }),
      401,
    );
    expect((await login(user.username, newPassword)).status).toBe(200);
  });

  it('2FA: setup, enable, login with TOTP and backup codes (each once), no replay, disable', async () => {
    const user = await registerUser();
    const session = await loginTokens(user.username);
    const setup = await call('POST', '/api/v1/auth/2fa/setup', { token: session.accessToken });
    expect(setup.status).toBe(200);
    expect(setup.body.otpauthUrl).toMatch(/^otpauth:\/\/totp\//);
    const secret: string = setup.body.secret;
    // Every code comes from one step index with 20 s of it left for the whole walk: the
    // server (±1 step) and its replay check see the same steps on every run.
    const step = await stepWithMargin(30, 20);
    const codeAt = (offsetSeconds: number) => generate({ secret, epoch: step * 30 + offsetSeconds });

    expectProblem(
      await call('POST', '/api/v1/auth/2fa/enable', { token: session.accessToken, body: { code: '000000' } }),
      400,
      'invalid_code',
    );
    const enabled = await call('POST', '/api/v1/auth/2fa/enable', {
      token: session.accessToken,
      body: { code: await codeAt(-30) },
    });
    expect(enabled.status).toBe(200);
    const backupCodes: string[] = enabled.body.backupCodes;
    expect(backupCodes).toHaveLength(10);
    expectProblem(
      await call('POST', '/api/v1/auth/2fa/setup', { token: session.accessToken }),
      409,
      'two_factor_enabled',
    );

    const challenge = async () => {
      const response = await login(user.username);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ twoFactorRequired: true, challengeId: expect.any(String) });
      return response.body.challengeId as string;
    };
    const second = (challengeId: string, code: string) =>
      call('POST', '/api/v1/auth/login/2fa', { body: { challengeId, code } });

    const c1 = await challenge();
    expectProblem(await second(c1, '123456'), 401, 'invalid_code');
    const ok = await second(c1, await codeAt(0));
    expect(ok.status).toBe(200);
    expect(ok.body.tokenType).toBe('Bearer');
    expectProblem(await second(c1, await codeAt(0)), 401, 'invalid_challenge');
    // The same time step again (a replayed code) is refused even on a fresh challenge.
    expectProblem(await second(await challenge(), await codeAt(0)), 401, 'invalid_code');

    const c3 = await challenge();
    expect((await second(c3, backupCodes[0]!.toUpperCase())).status).toBe(200);
    expectProblem(await second(await challenge(), backupCodes[0]!), 401, 'invalid_code');

    expectProblem(await second(randomUUID(), backupCodes[1]!), 401, 'invalid_challenge');

    expectProblem(
      await call('POST', '/api/v1/auth/2fa/disable', {
        token: session.accessToken,
        body: { code: backupCodes[0]! },
      }),
      400,
      'invalid_code',
    );
    expect(
      (
        await call('POST', '/api/v1/auth/2fa/disable', {
          token: session.accessToken,
          body: { code: backupCodes[1]! },
        })
      ).status,
    ).toBe(204);
    const plain = await login(user.username);
    expect(plain.body.accessToken).toEqual(expect.any(String));
  });

  it('limits wrong codes per challenge', async () => {
    const user = await registerUser();
    const session = await loginTokens(user.username);
    const { secret } = (await call('POST', '/api/v1/auth/2fa/setup', { token: session.accessToken })).body;
    const enable = await call('POST', '/api/v1/auth/2fa/enable', {
      token: session.accessToken,
      body: { code: await generate({ secret, epoch: (await stepWithMargin(30, 10)) * 30 }) },
    });
    expect(enable.status).toBe(200);
    const { challengeId } = (await login(user.username)).body;
    for (let i = 0; i < 5; i++) {
      expectProblem(
        await call('POST', '/api/v1/auth/login/2fa', { body: { challengeId, code: '000000' } }),
        401,
        'invalid_code',
      );
    }
    const code = await generate({ secret });
    expectProblem(
      await call('POST', '/api/v1/auth/login/2fa', { body: { challengeId, code } }),
      401,
      'invalid_challenge',
    );
  });

  it('throttles failed logins per account with 429 and Retry-After, before checking the password', async () => {
    const user = await registerUser();
    for (let i = 0; i < 3; i++)
      expectProblem(await login(user.username, 'wrong password!'), 401, 'invalid_credentials');
    const blocked = await login(user.email, PASSWORD);
    expectProblem(blocked, 429, 'too_many_attempts');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Other accounts are not affected.
    const other = await registerUser();
    expect((await login(other.username)).status).toBe(200);
  });

  it('throttles guesses of the current password on /password/change like logins', async () => {
    const user = await registerUser();
    const { accessToken } = await loginTokens(user.username);
    const change = (currentPassword: string) =>
      call('POST', '/api/v1/auth/password/change', {
        token: accessToken,
        body: { currentPassword, newPassword: 'some other long password' },
      });
    for (let i = 0; i < 3; i++)
      expectProblem(await change(`guess number ${i}`), 400, 'invalid_current_password');
    const blocked = await change(PASSWORD);
    expectProblem(blocked, 429, 'too_many_attempts');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('a successful login clears the account’s failures', async () => {
    const user = await registerUser();
    for (let i = 0; i < 2; i++) await login(user.username, 'wrong password!');
    expect((await login(user.username)).status).toBe(200);
    for (let i = 0; i < 2; i++) expectProblem(await login(user.username, 'wrong password!'), 401);
    expect((await login(user.username)).status).toBe(200);
  });

  it('writes each user event to the outbox with its change, and no secret in any payload', async () => {
    const who = identity();
    const created = await call('POST', '/api/v1/auth/register', { body: who });
    const userId: string = created.body.user.id;
    const verifyToken = await mailToken(server, who.email, '/verify-email');
    expect((await call('POST', '/api/v1/auth/verify-email', { body: { token: verifyToken } })).status).toBe(
      200,
    );
    const tokens = await loginTokens(who.username);
    const newPassword = 'second long password';
    await call('POST', '/api/v1/auth/password/change', {
      token: tokens.accessToken,
      body: { currentPassword: PASSWORD, newPassword },
    });
    await call('POST', '/api/v1/auth/password/forgot', { body: { email: who.email } });
    const resetToken = await mailToken(server, who.email, '/reset-password');
    await call('POST', '/api/v1/auth/password/reset', {
      body: { token: resetToken, newPassword: 'third long password' },
    });
    const fresh = await loginTokens(who.username, 'third long password');
    expect(
      (
        await call('DELETE', '/api/v1/users/me', {
          token: fresh.accessToken,
          body: { password: 'third long password' },
        })
      ).status,
    ).toBe(202);

    const database = await server.kernel.databases.open<{
      outbox: { aggregateid: string; aggregatetype: string; type: string; payload: unknown; seq: number };
    }>('auth');
    const rows = await database.db
      .selectFrom('outbox')
      .select(['aggregatetype', 'type', 'payload'])
      .where('aggregateid', '=', userId)
      .orderBy('seq')
      .execute();
    expect(rows.map((r) => r.type)).toEqual([
      'user.registered',
      'user.email_verified',
      'user.password_changed',
      'user.password_reset_requested',
      'user.password_changed',
      'user.deleted',
    ]);
    // Internal requests go to auth's own aggregate; the public one carries no address.
    for (const row of rows) {
      expect(row.aggregatetype, row.type).toBe(
        row.type === 'user.password_reset_requested' ? 'auth.account_mail' : 'auth.user',
      );
    }
    const published = JSON.stringify(
      rows.filter((r) => r.aggregatetype === 'auth.user').map((r) => r.payload),
    );
    expect(published).not.toContain(who.email);
    expect(published).not.toContain('"email"');
    const payloads = JSON.stringify(rows.map((r) => r.payload));
    for (const secret of [verifyToken, resetToken, PASSWORD, newPassword, 'third long password', 'argon2']) {
      expect(payloads).not.toContain(secret);
    }
  });

  it('documents every auth route, its errors and its security in OpenAPI', async () => {
    const doc = (await call('GET', '/openapi.json')).body;
    const expected: [string, string, number[]][] = [
      ['/api/v1/auth/register', 'post', [201, 400, 409]],
      ['/api/v1/auth/verify-email', 'post', [200, 400]],
      ['/api/v1/auth/login', 'post', [200, 401, 429]],
      ['/api/v1/auth/login/2fa', 'post', [200, 401]],
      ['/api/v1/auth/refresh', 'post', [200, 401]],
      ['/api/v1/auth/logout', 'post', [204, 401]],
      ['/api/v1/auth/sessions', 'get', [200, 401]],
      ['/api/v1/auth/sessions/{id}', 'delete', [204, 404]],
      ['/api/v1/auth/2fa/setup', 'post', [200, 409]],
      ['/api/v1/auth/2fa/enable', 'post', [200, 400]],
      ['/api/v1/auth/2fa/disable', 'post', [204, 400]],
      ['/api/v1/auth/password/change', 'post', [204, 400]],
      ['/api/v1/auth/password/forgot', 'post', [202, 400]],
      ['/api/v1/auth/password/reset', 'post', [204, 400]],
      ['/api/v1/users/me', 'delete', [202, 400, 401, 429]],
      ['/.well-known/jwks.json', 'get', [200]],
    ];
    for (const [path, method, statuses] of expected) {
      const operation = doc.paths?.[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation.summary, `${method} ${path}`).toEqual(expect.any(String));
      for (const status of statuses)
        expect(operation.responses[String(status)], `${method} ${path} ${status}`).toBeDefined();
    }
    expect(doc.paths['/api/v1/auth/login'].post.security ?? []).toEqual([]);
    expect(doc.paths['/api/v1/auth/logout'].post.security).toEqual([{ bearerAuth: [] }]);
  });

  it('deleting the account stops its tokens at once and frees nothing else', async () => {
    const user = await registerUser();
    const other = await registerUser();
    const tokens = await loginTokens(user.username);
    const deleted = await call('DELETE', '/api/v1/users/me', {
      token: tokens.accessToken,
      body: { password: PASSWORD },
    });
    expect(deleted.status).toBe(202);
    expectProblem(await call('GET', '/api/v1/auth/sessions', { token: tokens.accessToken }), 401);
    expectProblem(
      await call('POST', '/api/v1/auth/refresh', { body: { refreshToken: tokens.refreshToken } }),
      401,
    );
    expectProblem(await login(user.username), 401, 'invalid_credentials');
    expect((await server.api.getAccounts({ ids: [user.id, other.id] })).accounts).toEqual([
      expect.objectContaining({ id: other.id }),
    ]);
  });
});
