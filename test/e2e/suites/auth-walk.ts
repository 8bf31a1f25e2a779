import { randomUUID } from 'node:crypto';
import { stepWithMargin } from '@nova/kernel/testing';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NovaDeployment, readyChecksOf, waitForMailToken } from '../harness.js';
import { deployShape, type E2eShape } from './shape.js';

// biome-ignore lint/suspicious/noExplicitAny: a test reads arbitrary JSON answers field by field
type JsonAnswer = any;

/**
 * A user's walk through auth against the real server (`npm start`): register,
 * confirm the mailed link, log in, rotate, get caught reusing a token, log
 * out, turn on 2FA, and find everything still working after a restart.
 */
export function defineAuthWalk(shape: E2eShape): void {
  describe(`auth walk (npm start, ${shape.name})`, () => {
    let nova: NovaDeployment;
    const name = `walker_${randomUUID().slice(0, 8)}`;
    const email = `${name}@example.com`;
    const password = 'a walk in the park';

    const call = async (
      method: string,
      path: string,
      body?: unknown,
      token?: string,
    ): Promise<{ status: number; body: JsonAnswer }> => {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (token) headers.authorization = `Bearer ${token}`;
      const response = await fetch(nova.urlFor(path, method), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    };

    beforeAll(async () => {
      await shape.prepare?.();
      nova = await deployShape(shape, {
        ...shape.env(),
        ARGON2_MEMORY_KIB: '8192',
        ARGON2_TIME_COST: '1',
        REFRESH_REUSE_GRACE_SECONDS: '0',
      });
    });
    afterAll(async () => {
      try {
        await nova?.stop();
        nova?.cleanup();
      } finally {
        await shape.release?.();
      }
    });

    let backupCodes: string[] = [];
    let beforeRestart: { accessToken: string; refreshToken: string };

    it('reports its dependencies as ready', async () => {
      // Every process is ready; together they check both services' databases and the shape's extras.
      for (const process of Object.values(nova.processes))
        expect((await fetch(`${process.url}/health/ready`)).status).toBe(200);
      const checks = await readyChecksOf(nova);
      for (const name of ['db-auth', 'db-social', ...(shape.readyChecks ?? [])]) {
        expect(checks[name]).toMatchObject({ status: 'ok' });
      }
    });

    it('registers and verifies the address from the .eml in the mail dir', async () => {
      const registered = await call('POST', '/api/v1/auth/register', { email, username: name, password });
      expect(registered.status).toBe(201);
      expect(registered.body.user.emailVerified).toBe(false);
      const token = await waitForMailToken(nova.mailDir, email, '/verify-email');
      const verified = await call('POST', '/api/v1/auth/verify-email', { token });
      expect(verified.status).toBe(200);
      expect(verified.body.user.emailVerified).toBe(true);
      expect((await call('POST', '/api/v1/auth/verify-email', { token })).status).toBe(400);
    });

    it('logs in, rotates, detects reuse, logs out', async () => {
      const login = await call('POST', '/api/v1/auth/login', { login: email, password });
      expect(login.status).toBe(200);
      const rotated = await call('POST', '/api/v1/auth/refresh', { refreshToken: login.body.refreshToken });
      expect(rotated.status).toBe(200);
      const reused = await call('POST', '/api/v1/auth/refresh', { refreshToken: login.body.refreshToken });
      expect(reused.status).toBe(401);
      expect(
        (await call('POST', '/api/v1/auth/refresh', { refreshToken: rotated.body.refreshToken })).status,
      ).toBe(401);
      expect((await call('GET', '/api/v1/auth/sessions', undefined, rotated.body.accessToken)).status).toBe(
        401,
      );

      const again = await call('POST', '/api/v1/auth/login', { login: name.toUpperCase(), password });
      expect(again.status).toBe(200);
      expect((await call('GET', '/api/v1/auth/sessions', undefined, again.body.accessToken)).status).toBe(
        200,
      );
      expect((await call('POST', '/api/v1/auth/logout', undefined, again.body.accessToken)).status).toBe(204);
      expect((await call('GET', '/api/v1/auth/sessions', undefined, again.body.accessToken)).status).toBe(
        401,
      );
    });

    it('turns on 2FA and logs in with a backup code', async () => {
      const login = await call('POST', '/api/v1/auth/login', { login: name, password });
      const setup = await call('POST', '/api/v1/auth/2fa/setup', undefined, login.body.accessToken);
      expect(setup.status).toBe(200);
      // The code of the current 30 s step, with 10 s of it left for the request: the server
      // (±1 step) accepts it whatever the wall clock said when the test started.
      const step = await stepWithMargin(30, 10);
      const code = await generate({ secret: setup.body.secret, epoch: step * 30 });
      const enabled = await call('POST', '/api/v1/auth/2fa/enable', { code }, login.body.accessToken);
      expect(enabled.status).toBe(200);
      backupCodes = enabled.body.backupCodes;
      expect(backupCodes).toHaveLength(10);

      const challenge = await call('POST', '/api/v1/auth/login', { login: name, password });
      expect(challenge.body).toEqual({ twoFactorRequired: true, challengeId: expect.any(String) });
      const wrong = await call('POST', '/api/v1/auth/login/2fa', {
        challengeId: challenge.body.challengeId,
        code: '000000',
      });
      expect(wrong.status).toBe(401);
      const second = await call('POST', '/api/v1/auth/login/2fa', {
        challengeId: challenge.body.challengeId,
        code: backupCodes[0],
      });
      expect(second.status).toBe(200);
      beforeRestart = second.body;
      const replay = await call('POST', '/api/v1/auth/login', { login: name, password });
      const reuse = await call('POST', '/api/v1/auth/login/2fa', {
        challengeId: replay.body.challengeId,
        code: backupCodes[0],
      });
      expect(reuse.status).toBe(401);
    });

    it('keeps data, keys and tokens across a restart', async () => {
      const jwksBefore = await call('GET', '/.well-known/jwks.json');
      await nova.restart(['auth']);
      expect((await call('GET', '/.well-known/jwks.json')).body).toEqual(jwksBefore.body);
      expect((await call('GET', '/api/v1/auth/sessions', undefined, beforeRestart.accessToken)).status).toBe(
        200,
      );
      const refreshed = await call('POST', '/api/v1/auth/refresh', {
        refreshToken: beforeRestart.refreshToken,
      });
      expect(refreshed.status).toBe(200);
      const challenge = await call('POST', '/api/v1/auth/login', { login: email, password });
      expect(challenge.body.twoFactorRequired).toBe(true);
      const second = await call('POST', '/api/v1/auth/login/2fa', {
        challengeId: challenge.body.challengeId,
        code: backupCodes[1],
      });
      expect(second.status).toBe(200);
      // A process start on a loaded machine (every other suite beside it) can take most of a minute.
    }, 180_000);
  });
}
