import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthTables } from '../../src/store/tables.js';
import { SHAPES } from '../support/shapes.js';
import { type AuthServer, startAuth } from '../support/start-auth.js';

const PASSWORD = 'correct horse battery';
const PARALLEL = 10;
const GRACE_SECONDS = 10;

/**
 * Two tabs (or a retried request) refreshing with the same token must not
 * log the user out; a reuse after the grace period is still theft.
 */
describe.each(SHAPES)('concurrent refreshes with one token ($name)', (shape) => {
  let server: AuthServer;

  beforeAll(async () => {
    server = await startAuth({ ...shape, env: { REFRESH_REUSE_GRACE_SECONDS: String(GRACE_SECONDS) } });
  });
  afterAll(async () => {
    await server?.close();
  });

  const login = async () => {
    const name = `rf_${randomUUID().slice(0, 12).replace(/-/g, '')}`;
    const who = { username: name, email: `${name}@example.com`, password: PASSWORD };
    expect((await server.call('POST', '/api/v1/auth/register', { body: who })).status).toBe(201);
    const answer = await server.call('POST', '/api/v1/auth/login', {
      body: { login: name, password: PASSWORD },
    });
    expect(answer.status).toBe(200);
    return answer.body as { accessToken: string; refreshToken: string };
  };
  const refresh = (refreshToken: string) =>
    server.call('POST', '/api/v1/auth/refresh', { body: { refreshToken } });
  const sessions = (token: string) => server.call('GET', '/api/v1/auth/sessions', { token });
  /** Moves the token's use into the past, as if the clock had run on (the database's clock decides). */
  const usedSecondsAgo = async (seconds: number) => {
    const database = await server.kernel.databases.open<AuthTables>('auth');
    await database.db
      .updateTable('refresh_tokens')
      .set({ used_at: sql<Date>`now() - make_interval(secs => ${seconds})` })
      .where('used_at', 'is not', null)
      .execute();
  };

  it(`${PARALLEL} parallel refreshes with the same token all succeed and the session survives`, async () => {
    const first = await login();
    const answers = await Promise.all(Array.from({ length: PARALLEL }, () => refresh(first.refreshToken)));
    expect(answers.map((a) => a.status)).toEqual(Array(PARALLEL).fill(200));
    const pairs = answers.map((a) => a.body as { accessToken: string; refreshToken: string });
    expect(new Set(pairs.map((p) => p.refreshToken)).size).toBe(PARALLEL);
    // Invariant: one session, still active, and every pair handed out works.
    for (const pair of pairs) {
      const listed = await sessions(pair.accessToken);
      expect(listed.status).toBe(200);
      expect(listed.body.items).toHaveLength(1);
    }
    const next = await Promise.all(pairs.map((p) => refresh(p.refreshToken)));
    expect(next.map((a) => a.status)).toEqual(Array(PARALLEL).fill(200));
    expect((await sessions(first.accessToken)).status).toBe(200);
  });

  it('a reuse after the grace period still revokes the whole family', async () => {
    const first = await login();
    const rotated = await refresh(first.refreshToken);
    expect(rotated.status).toBe(200);
    await usedSecondsAgo(GRACE_SECONDS + 1);
    const reused = await refresh(first.refreshToken);
    expect(reused.status).toBe(401);
    expect(reused.body.code).toBe('refresh_token_reused');
    expect((await refresh(rotated.body.refreshToken)).status).toBe(401);
    expect((await sessions(rotated.body.accessToken)).status).toBe(401);
    expect((await sessions(first.accessToken)).status).toBe(401);
  });

  it('a duplicate within the grace period gets nothing once the session has ended', async () => {
    const first = await login();
    const rotated = await refresh(first.refreshToken);
    expect(rotated.status).toBe(200);
    expect(
      (await server.call('POST', '/api/v1/auth/logout', { token: rotated.body.accessToken })).status,
    ).toBe(204);
    const late = await refresh(first.refreshToken);
    expect(late.status).toBe(401);
    expect(late.body.code).toBe('invalid_refresh_token');
  });
});
