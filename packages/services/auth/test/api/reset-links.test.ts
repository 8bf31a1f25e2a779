import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mailTokens } from '../support/mailbox.js';
import { SHAPES } from '../support/shapes.js';
import { type AuthServer, startAuth } from '../support/start-auth.js';

const PASSWORD = 'correct horse battery';

describe.each(SHAPES)('a new password spends every outstanding reset link ($name)', (shape) => {
  let server: AuthServer;

  beforeAll(async () => {
    server = await startAuth(shape);
  });
  afterAll(async () => {
    await server?.close();
  });

  const registerUser = async () => {
    const name = `rst_${randomUUID().slice(0, 12).replace(/-/g, '')}`;
    const who = { username: name, email: `${name}@example.com`, password: PASSWORD };
    expect((await server.call('POST', '/api/v1/auth/register', { body: who })).status).toBe(201);
    return who;
  };
  const forgot = async (email: string) =>
    expect((await server.call('POST', '/api/v1/auth/password/forgot', { body: { email } })).status).toBe(202);
  const reset = (token: string, newPassword: string) =>
    server.call('POST', '/api/v1/auth/password/reset', { body: { token, newPassword } });

  it('a reset with one link refuses the other links of the account', async () => {
    const who = await registerUser();
    await forgot(who.email);
    await mailTokens(server, who.email, '/reset-password', 1);
    await forgot(who.email);
    const [newer, older] = await mailTokens(server, who.email, '/reset-password', 2);
    expect(newer).toBeDefined();
    expect(older).toBeDefined();
    expect(newer).not.toBe(older);
    expect((await reset(older as string, 'the first new password')).status).toBe(204);
    const refused = await reset(newer as string, 'the second new password');
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('invalid_token');
    const login = await server.call('POST', '/api/v1/auth/login', {
      body: { login: who.username, password: 'the first new password' },
    });
    expect(login.status).toBe(200);
  });

  it('a password change refuses every outstanding link', async () => {
    const who = await registerUser();
    await forgot(who.email);
    const [link] = await mailTokens(server, who.email, '/reset-password', 1);
    const { accessToken } = (
      await server.call('POST', '/api/v1/auth/login', { body: { login: who.username, password: PASSWORD } })
    ).body as { accessToken: string };
    const changed = await server.call('POST', '/api/v1/auth/password/change', {
      token: accessToken,
      body: { currentPassword: PASSWORD, newPassword: 'a changed password here' },
    });
    expect(changed.status).toBe(204);
    const refused = await reset(link as string, 'an attacker password');
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('invalid_token');
  });
});
