import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHAPES } from '../support/shapes.js';
import { type AuthServer, startAuth } from '../support/start-auth.js';

const PASSWORD = 'correct horse battery';
const PARALLEL = 20;
const LIMIT = 5;

/**
 * The throttles count an attempt before the secret is checked, atomically:
 * of N parallel guesses at most `limit` reach the check. A 401/400 "wrong
 * password" answer can only come from a check that ran, so counting those
 * answers counts the checks without looking at timings.
 */
describe.each(SHAPES)('atomic throttles ($name)', (shape) => {
  let server: AuthServer;

  beforeAll(async () => {
    server = await startAuth({
      ...shape,
      env: {
        LOGIN_MAX_FAILURES: String(LIMIT),
        LOGIN_MAX_FAILURES_PER_IP: '100000',
        LOGIN_FAILURE_WINDOW_SECONDS: '600',
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  const registerUser = async () => {
    const name = `thr_${randomUUID().slice(0, 12).replace(/-/g, '')}`;
    const who = { username: name, email: `${name}@example.com`, password: PASSWORD };
    expect((await server.call('POST', '/api/v1/auth/register', { body: who })).status).toBe(201);
    return who;
  };
  const tally = (answers: { status: number; body: { code?: string } }[]) => {
    const counts: Record<string, number> = {};
    for (const a of answers) {
      const key = `${a.status} ${a.body?.code ?? ''}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  };

  it(`lets at most ${LIMIT} of ${PARALLEL} parallel wrong passwords reach the password check`, async () => {
    const who = await registerUser();
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        server.call('POST', '/api/v1/auth/login', {
          body: { login: who.username, password: `wrong password ${i}` },
        }),
      ),
    );
    const counts = tally(answers);
    expect(counts['401 invalid_credentials'], JSON.stringify(counts)).toBe(LIMIT);
    expect(counts['429 too_many_attempts'], JSON.stringify(counts)).toBe(PARALLEL - LIMIT);
    // Still locked for the right password: the window counts the failures that ran.
    expect(
      (await server.call('POST', '/api/v1/auth/login', { body: { login: who.username, password: PASSWORD } }))
        .status,
    ).toBe(429);
  });

  it('counts unknown logins the same way', async () => {
    const ghost = `ghost_${randomUUID().slice(0, 8)}`;
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, () =>
        server.call('POST', '/api/v1/auth/login', { body: { login: ghost, password: 'whatever it is' } }),
      ),
    );
    expect(tally(answers)['401 invalid_credentials']).toBe(LIMIT);
  });

  it('gives a successful login its hit back and clears the account', async () => {
    const who = await registerUser();
    for (let i = 0; i < LIMIT - 1; i++) {
      const miss = await server.call('POST', '/api/v1/auth/login', {
        body: { login: who.username, password: 'not the password' },
      });
      expect(miss.status).toBe(401);
    }
    const ok = await server.call('POST', '/api/v1/auth/login', {
      body: { login: who.username, password: PASSWORD },
    });
    expect(ok.status).toBe(200);
    // Cleared: a full window of failures is allowed again.
    const again = await Promise.all(
      Array.from({ length: LIMIT }, () =>
        server.call('POST', '/api/v1/auth/login', {
          body: { login: who.username, password: 'nope nope nope' },
        }),
      ),
    );
    expect(again.every((a) => a.status === 401)).toBe(true);
  });

  it(`lets at most ${LIMIT} of ${PARALLEL} parallel password changes check the current password`, async () => {
    const who = await registerUser();
    const tokens = (
      await server.call('POST', '/api/v1/auth/login', { body: { login: who.username, password: PASSWORD } })
    ).body as { accessToken: string };
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        server.call('POST', '/api/v1/auth/password/change', {
          token: tokens.accessToken,
          body: { currentPassword: `wrong current ${i}`, newPassword: 'a brand new password' },
        }),
      ),
    );
    const counts = tally(answers);
    expect(counts['400 invalid_current_password'], JSON.stringify(counts)).toBe(LIMIT);
    expect(counts['429 too_many_attempts'], JSON.stringify(counts)).toBe(PARALLEL - LIMIT);
  });

  it('lets at most 10 of 20 parallel wrong 2FA codes reach the code check', async () => {
    const who = await registerUser();
    const { accessToken } = (
      await server.call('POST', '/api/v1/auth/login', { body: { login: who.username, password: PASSWORD } })
    ).body as { accessToken: string };
    expect((await server.call('POST', '/api/v1/auth/2fa/setup', { token: accessToken })).status).toBe(200);
    // Not enabled yet: /2fa/enable checks codes against the pending secret, each attempt counted first.
    const answers = await Promise.all(
      Array.from({ length: PARALLEL }, (_, i) =>
        server.call('POST', '/api/v1/auth/2fa/enable', {
          token: accessToken,
          body: { code: String(100000 + i) },
        }),
      ),
    );
    const counts = tally(answers);
    expect(counts['400 invalid_code'] ?? 0, JSON.stringify(counts)).toBeLessThanOrEqual(10);
    expect(counts['429 too_many_attempts'], JSON.stringify(counts)).toBeGreaterThanOrEqual(PARALLEL - 10);
  });
});
