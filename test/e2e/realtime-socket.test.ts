import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../packages/kernel/src/realtime/frames.js';
import { connect, upgradeStatus } from '../../packages/kernel/test/realtime/socket-client.js';
import { type RunningNova, startNova } from './harness.js';

/**
 * The socket of `npm start` with the real auth service at the edge: a
 * logout closes that session's socket (and only it), and SIGTERM closes the
 * rest with 1001 and still exits 0.
 */
describe('the realtime socket with real auth (npm start)', () => {
  let nova: RunningNova;
  const password = 'a socket password';

  const post = async (path: string, body?: unknown, token?: string) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${nova.url}${path}`, {
      method: 'POST',
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    // node itself, not npm: the exit code is the process's own.
    nova = await startNova({
      command: ['node', '--import', 'tsx', 'apps/nova/src/main.ts', 'start'],
      env: { ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1', NOVA_WS_REVALIDATE_MS: '200' },
    });
  });
  afterAll(async () => {
    await nova?.stop();
    nova?.cleanup();
  });

  it('authenticates the upgrade, closes a logged-out session with 4401 and the rest with 1001 at shutdown', async () => {
    const name = `socket_${randomUUID().slice(0, 8)}`;
    const registered = await post('/api/v1/auth/register', {
      email: `${name}@example.com`,
      username: name,
      password,
    });
    expect(registered.status).toBe(201);
    const login = async () => {
      const answer = await post('/api/v1/auth/login', { login: name, password });
      expect(answer.status).toBe(200);
      return answer.body.accessToken as string;
    };
    const first = await login();
    const second = await login();
    expect(await upgradeStatus(nova.url)).toBe(401);
    expect(await upgradeStatus(nova.url, { token: 'not-a-jwt' })).toBe(401);
    const leaving = await connect(nova.url, { token: first });
    const staying = await connect(nova.url, { token: second, queryToken: true });

    expect((await post('/api/v1/auth/logout', undefined, first)).status).toBe(204);
    expect((await leaving.closed).code).toBe(CloseCode.unauthenticated);
    expect(staying.ws.readyState).toBe(staying.ws.OPEN);
    expect(await upgradeStatus(nova.url, { token: first })).toBe(401);

    const stopping = nova.stop();
    expect((await staying.closed).code).toBe(CloseCode.goingAway);
    // The process drained cleanly: every step, the sockets' included, within the deadline.
    expect(await stopping).toBe(0);
  });
});
