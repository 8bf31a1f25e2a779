import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningNova, startNova } from './harness.js';

// biome-ignore lint/suspicious/noExplicitAny: a test reads arbitrary JSON answers field by field
type JsonAnswer = any;

/**
 * The all-in-one process keeps revocations in an in-process store, which a
 * restart empties. Revoked tokens must stay refused after it: the marks come
 * back from the database (ADR 009).
 */
describe('durable revocation across a restart (npm start, in-process stores)', () => {
  let nova: RunningNova;
  const password = 'a durable password';

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; body: JsonAnswer }> => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${nova.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
  const register = async () => {
    const name = `durable_${randomUUID().slice(0, 8)}`;
    expect(
      (
        await call('POST', '/api/v1/auth/register', {
          email: `${name}@example.com`,
          username: name,
          password,
        })
      ).status,
    ).toBe(201);
    return name;
  };
  const login = async (name: string) => {
    const answer = await call('POST', '/api/v1/auth/login', { login: name, password });
    expect(answer.status).toBe(200);
    return answer.body as { accessToken: string; refreshToken: string };
  };
  const sessionsStatus = async (token: string) =>
    (await call('GET', '/api/v1/auth/sessions', undefined, token)).status;

  beforeAll(async () => {
    nova = await startNova({
      env: { ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1', REFRESH_REUSE_GRACE_SECONDS: '0' },
    });
  });
  afterAll(async () => {
    await nova?.stop();
    nova?.cleanup();
  });

  it('refuses logged-out, revoked and deleted accounts’ tokens after the process restarts', async () => {
    const name = await register();
    const loggedOut = await login(name);
    expect((await call('POST', '/api/v1/auth/logout', undefined, loggedOut.accessToken)).status).toBe(204);
    const family = await login(name);
    const rotated = await call('POST', '/api/v1/auth/refresh', { refreshToken: family.refreshToken });
    expect(rotated.status).toBe(200);
    expect((await call('POST', '/api/v1/auth/refresh', { refreshToken: family.refreshToken })).status).toBe(
      401,
    );
    const live = await login(name);

    const doomed = await register();
    const deletedTokens = await login(doomed);
    expect((await call('DELETE', '/api/v1/users/me', { password }, deletedTokens.accessToken)).status).toBe(
      202,
    );

    const revoked = {
      logout: loggedOut.accessToken,
      'refresh family': rotated.body.accessToken as string,
      'deleted account': deletedTokens.accessToken,
    };
    for (const [way, token] of Object.entries(revoked)) expect(await sessionsStatus(token), way).toBe(401);
    expect(await sessionsStatus(live.accessToken)).toBe(200);

    await nova.restart();

    for (const [way, token] of Object.entries(revoked)) expect(await sessionsStatus(token), way).toBe(401);
    expect(await sessionsStatus(live.accessToken)).toBe(200);
  });
});
