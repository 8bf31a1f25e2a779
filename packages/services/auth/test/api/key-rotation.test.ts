import { randomUUID } from 'node:crypto';
import type { ScheduledJob } from '@nova/kernel';
import { stepWithMargin } from '@nova/kernel/testing';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../src/keys/secret-box.js';
import type { AuthTables } from '../../src/store/tables.js';
import { RESEAL_JOB } from '../../src/workers/reseal-job.js';
import { SHAPES } from '../support/shapes.js';
import { type AuthServer, startAuth } from '../support/start-auth.js';

const PASSWORD = 'correct horse battery';
const OLD_KEY = Buffer.alloc(32, 0x0a);
const NEW_KEY = Buffer.alloc(32, 0x0b);

/**
 * AUTH_ENCRYPTION_KEY rotated: a TOTP secret sealed under the old key (as the
 * process before the rotation left it) still signs its owner in while the old
 * key is accepted, and the re-seal job moves it under the new key, after
 * which the new key alone opens it.
 */
describe.each(SHAPES)('encryption key rotation ($name)', (shape) => {
  let server: AuthServer;

  beforeAll(async () => {
    server = await startAuth({
      ...shape,
      env: {
        AUTH_ENCRYPTION_KEY: NEW_KEY.toString('base64'),
        AUTH_ENCRYPTION_KEYS_ACCEPTED: OLD_KEY.toString('base64'),
      },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('signs in with a secret sealed under the accepted key, then re-seals it under the new one', async () => {
    const username = `rot_${randomUUID().slice(0, 8)}`;
    const registered = await server.call('POST', '/api/v1/auth/register', {
      body: { username, email: `${username}@example.com`, password: PASSWORD },
    });
    expect(registered.status).toBe(201);
    const userId: string = registered.body.user.id;
    const session = await server.call('POST', '/api/v1/auth/login', {
      body: { login: username, password: PASSWORD },
    });
    const token: string = session.body.accessToken;
    const { secret } = (await server.call('POST', '/api/v1/auth/2fa/setup', { token })).body as {
      secret: string;
    };
    const step = await stepWithMargin(30, 15);
    const codeAt = (offsetSeconds: number) => generate({ secret, epoch: step * 30 + offsetSeconds });
    expect(
      (await server.call('POST', '/api/v1/auth/2fa/enable', { token, body: { code: await codeAt(-30) } }))
        .status,
    ).toBe(200);

    // The row as the process before the rotation sealed it.
    const db = (await server.kernel.databases.open<AuthTables>('auth')).db;
    const storedSecret = async () =>
      (
        await db
          .selectFrom('totp')
          .select('secret_encrypted')
          .where('user_id', '=', userId)
          .executeTakeFirstOrThrow()
      ).secret_encrypted;
    await db
      .updateTable('totp')
      .set({ secret_encrypted: createSecretBox(OLD_KEY).seal(secret, userId) })
      .where('user_id', '=', userId)
      .execute();

    const challenge = await server.call('POST', '/api/v1/auth/login', {
      body: { login: username, password: PASSWORD },
    });
    expect(challenge.body.twoFactorRequired).toBe(true);
    const signedIn = await server.call('POST', '/api/v1/auth/login/2fa', {
      body: { challengeId: challenge.body.challengeId, code: await codeAt(0) },
    });
    expect(signedIn.status).toBe(200);

    const job = server.booted.workers.find((w) => w.name === RESEAL_JOB) as ScheduledJob | undefined;
    expect(job).toBeDefined();
    job?.wake();
    await expect
      .poll(async () => {
        try {
          return createSecretBox(NEW_KEY).open(await storedSecret(), userId);
        } catch {
          return 'still under the old key';
        }
      })
      .toBe(secret);
    const after = await storedSecret();
    expect(() => createSecretBox(OLD_KEY).open(after, userId)).toThrow();
  });
});
