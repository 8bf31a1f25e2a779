import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServer, startAuth } from '../support/start-auth.js';

describe('login throttle per client IP', () => {
  let server: AuthServer;

  beforeAll(async () => {
    server = await startAuth({
      env: { LOGIN_MAX_FAILURES: '100', LOGIN_MAX_FAILURES_PER_IP: '4', LOGIN_FAILURE_WINDOW_SECONDS: '120' },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('blocks an address spraying many accounts, even for a right password, with Retry-After', async () => {
    const user = { email: 'sprayed@example.com', username: 'sprayed', password: 'the right password' };
    expect((await server.call('POST', '/api/v1/auth/register', { body: user })).status).toBe(201);
    for (let i = 0; i < 4; i++) {
      const miss = await server.call('POST', '/api/v1/auth/login', {
        body: { login: `victim${i}`, password: 'guess guess guess' },
      });
      expect(miss.status).toBe(401);
    }
    const blocked = await server.call('POST', '/api/v1/auth/login', {
      body: { login: user.username, password: user.password },
    });
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe('too_many_attempts');
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(120);
  });
});
