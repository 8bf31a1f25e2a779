import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHAPES } from '../support/shapes.js';
import { type AuthServer, startAuth } from '../support/start-auth.js';

const LIMIT = 3;
const WINDOW_SECONDS = 120;
const PARALLEL = 8;

describe.each(SHAPES)('registration throttle per client IP ($name)', (shape) => {
  let server: AuthServer;

  beforeAll(async () => {
    server = await startAuth({
      ...shape,
      env: {
        REGISTER_MAX_PER_IP: String(LIMIT),
        REGISTER_WINDOW_SECONDS: String(WINDOW_SECONDS),
        // The test client is the proxy: X-Forwarded-For names the client address (request.ip).
        NOVA_TRUSTED_PROXIES: '127.0.0.1/32,::1/128',
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const signUp = (clientIp: string, body?: unknown) => {
    const name = `reg_${randomUUID().slice(0, 12).replace(/-/g, '')}`;
    return server.call('POST', '/api/v1/auth/register', {
      body: body ?? { username: name, email: `${name}@example.com`, password: 'correct horse battery' },
      headers: { 'x-forwarded-for': clientIp },
    });
  };

  it(`lets ${LIMIT} of ${PARALLEL} parallel sign-ups from one address through, then 429 with Retry-After`, async () => {
    const ip = '203.0.113.10';
    // Malformed sign-ups create nothing and cost no quota.
    expect((await signUp(ip, { username: 'x', email: 'not-an-email', password: 'short' })).status).toBe(400);
    const answers = await Promise.all(Array.from({ length: PARALLEL }, () => signUp(ip)));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(LIMIT);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(PARALLEL - LIMIT);
    for (const answer of refused) {
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(answer.body.code).toBe('too_many_registrations');
      const retryAfter = Number(answer.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
    }
  });

  it('counts each client address on its own', async () => {
    for (const ip of ['203.0.113.20', '2001:db8::20']) {
      for (let i = 0; i < LIMIT; i++) expect((await signUp(ip)).status).toBe(201);
      expect((await signUp(ip)).status).toBe(429);
    }
  });
});
