import { randomUUID } from 'node:crypto';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHAPES } from '../support/shapes.js';
import { type AuthServer, startAuth } from '../support/start-auth.js';

const PASSWORD = 'correct horse battery';

/** DELETE /users/me {password, code?}: an access token alone cannot delete an account. */
describe.each(SHAPES)('account deletion needs the password and the second factor ($name)', (shape) => {
  let server: AuthServer;

  beforeAll(async () => {
    server = await startAuth({ ...shape, env: { LOGIN_MAX_FAILURES: '5' } });
  });
  afterAll(async () => {
    await server?.close();
  });

  const account = async () => {
    const name = `del_${randomUUID().slice(0, 12).replace(/-/g, '')}`;
    const who = { username: name, email: `${name}@example.com`, password: PASSWORD };
    expect((await server.call('POST', '/api/v1/auth/register', { body: who })).status).toBe(201);
    const login = await server.call('POST', '/api/v1/auth/login', {
      body: { login: name, password: PASSWORD },
    });
    expect(login.status).toBe(200);
    return { ...who, token: login.body.accessToken as string };
  };
  const remove = (token: string, body?: unknown, raw?: string) =>
    server.call('DELETE', '/api/v1/users/me', { token, ...(raw === undefined ? { body } : { raw }) });
  const stillThere = async (who: { username: string; token: string }) => {
    expect((await server.call('GET', '/api/v1/auth/sessions', { token: who.token })).status).toBe(200);
    const login = await server.call('POST', '/api/v1/auth/login', {
      body: { login: who.username, password: PASSWORD },
    });
    expect(login.status).toBe(200);
  };
  const expectProblem = (answer: Awaited<ReturnType<typeof remove>>, status: number, code?: string) => {
    expect(answer.status, JSON.stringify(answer.body)).toBe(status);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    if (code) expect(answer.body.code).toBe(code);
  };

  it('answers 400 for a missing or malformed body and deletes nothing', async () => {
    const who = await account();
    for (const body of [
      undefined,
      {},
      { password: '' },
      { password: 42 },
      { password: PASSWORD, extra: 1 },
    ]) {
      expectProblem(await remove(who.token, body), 400);
    }
    expectProblem(await remove(who.token, undefined, '{"password":'), 400);
    await stillThere(who);
  });

  it('answers 401 for a wrong password, throttled like logins, and deletes nothing', async () => {
    const who = await account();
    expectProblem(await remove(who.token, { password: 'not the password' }), 401, 'invalid_password');
    await stillThere(who);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => remove(who.token, { password: 'still not the password' })),
    );
    expect(answers.filter((a) => a.status === 401)).toHaveLength(5);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(5);
  });

  it('with 2FA on, answers 401 without a valid code; a backup code lets it through', async () => {
    const who = await account();
    const setup = await server.call('POST', '/api/v1/auth/2fa/setup', { token: who.token });
    expect(setup.status).toBe(200);
    const enabled = await server.call('POST', '/api/v1/auth/2fa/enable', {
      token: who.token,
      body: { code: await generate({ secret: setup.body.secret }) },
    });
    expect(enabled.status).toBe(200);
    const [backup] = enabled.body.backupCodes as string[];

    expectProblem(await remove(who.token, { password: PASSWORD }), 401, 'code_required');
    expectProblem(await remove(who.token, { password: PASSWORD, code: '00000-00000' }), 401, 'invalid_code');
    expectProblem(
      await remove(who.token, { password: 'wrong password!', code: backup }),
      401,
      'invalid_password',
    );
    expect((await server.call('GET', '/api/v1/auth/sessions', { token: who.token })).status).toBe(200);

    const deleted = await remove(who.token, { password: PASSWORD, code: backup });
    expect(deleted.status).toBe(202);
    expect((await server.call('GET', '/api/v1/auth/sessions', { token: who.token })).status).toBe(401);
  });

  it('deletes with the right password when 2FA is off', async () => {
    const who = await account();
    expect((await remove(who.token, { password: PASSWORD })).status).toBe(202);
    const login = await server.call('POST', '/api/v1/auth/login', {
      body: { login: who.username, password: PASSWORD },
    });
    expect(login.status).toBe(401);
  });
});
