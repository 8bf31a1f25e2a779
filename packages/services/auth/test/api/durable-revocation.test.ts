import { randomUUID } from 'node:crypto';
import { createRemoteTokenVerifier } from '@nova/gateway';
import { createMemoryStore, createRedisStore, type KeyValueStore, UnauthenticatedError } from '@nova/kernel';
import { deleteRedisPrefix, TEST_REDIS_URL } from '@nova/kernel/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHAPES } from '../support/shapes.js';
import { type AuthServer, startAuth } from '../support/start-auth.js';

const PASSWORD = 'correct horse battery';

interface Revoked {
  /** Each way a token can be revoked, by the name of the way. */
  tokens: Record<string, string>;
  /** A token nobody revoked. */
  live: string;
}

/**
 * The security store's revocation marks are a copy (ADR 009): tokens revoked
 * every way there is stay refused when the store comes back empty and at an
 * edge whose store never saw the revocations.
 */
describe.each(SHAPES)('durable revocation ($name)', (shape) => {
  let server: AuthServer;
  let revoked: Revoked;

  beforeAll(async () => {
    server = await startAuth({ ...shape, env: { REFRESH_REUSE_GRACE_SECONDS: '0' } });
    revoked = await revokeEveryWay(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  // An empty security Redis came back: every key of the security role is gone.
  const flushSecurityStore = () => deleteRedisPrefix(`${server.redisPrefix}security:`);

  const sessionsStatus = async (token: string) =>
    (await server.call('GET', '/api/v1/auth/sessions', { token })).status;

  it('refuses every revoked token in the process that revoked it', async () => {
    for (const [way, token] of Object.entries(revoked.tokens))
      expect(await sessionsStatus(token), way).toBe(401);
    expect(await sessionsStatus(revoked.live)).toBe(200);
  });

  it.runIf(shape.redis)('still refuses them after the security Redis comes back empty', async () => {
    await flushSecurityStore();
    for (const [way, token] of Object.entries(revoked.tokens))
      expect(await sessionsStatus(token), way).toBe(401);
    expect(await sessionsStatus(revoked.live)).toBe(200);
    // Flushed again while requests arrive at once: every one waits for the same restore.
    await flushSecurityStore();
    const answers = await Promise.all(
      [...Object.values(revoked.tokens), ...Object.values(revoked.tokens)].map(sessionsStatus),
    );
    expect(answers.every((status) => status === 401)).toBe(true);
  });

  describe('at a remote edge (NOVA_AUTH_URL) with a store of its own', () => {
    let edgeStore: KeyValueStore;
    let closeEdgeStore: () => Promise<void>;

    beforeAll(async () => {
      if (shape.redis) {
        const prefix = `nova-test-edge-${randomUUID().slice(0, 8)}:`;
        const redis = new Redis(TEST_REDIS_URL);
        edgeStore = createRedisStore(redis, prefix);
        closeEdgeStore = async () => {
          await deleteRedisPrefix(prefix);
          redis.disconnect();
        };
      } else {
        edgeStore = createMemoryStore();
        closeEdgeStore = () => edgeStore.close();
      }
    });
    afterAll(async () => {
      await closeEdgeStore?.();
    });

    const refusedAtEdge = async (verify: (token: string) => Promise<unknown>, token: string) => {
      try {
        await verify(token);
        return false;
      } catch (error) {
        if (error instanceof UnauthenticatedError) return true;
        throw error;
      }
    };

    it('refuses tokens revoked before the edge started, accepts the rest', async () => {
      const verify = createRemoteTokenVerifier({ authUrl: server.url, securityStore: edgeStore });
      for (const [way, token] of Object.entries(revoked.tokens)) {
        expect(await refusedAtEdge(verify, token), way).toBe(true);
      }
      expect(await refusedAtEdge(verify, revoked.live)).toBe(false);
    });

    it('learns of a revocation made later within one poll interval', async () => {
      const verify = createRemoteTokenVerifier({
        authUrl: server.url,
        securityStore: edgeStore,
        revocationPollMs: 200,
      });
      const who = await register(server);
      const tokens = await login(server, who.username);
      expect(await refusedAtEdge(verify, tokens.accessToken)).toBe(false);
      expect((await server.call('POST', '/api/v1/auth/logout', { token: tokens.accessToken })).status).toBe(
        204,
      );
      const revokedAt = Date.now();
      while (!(await refusedAtEdge(verify, tokens.accessToken))) {
        expect(Date.now() - revokedAt).toBeLessThan(3000);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
  });
});

async function register(server: AuthServer) {
  const name = `rev_${randomUUID().slice(0, 12).replace(/-/g, '')}`;
  const who = { username: name, email: `${name}@example.com`, password: PASSWORD };
  const created = await server.call('POST', '/api/v1/auth/register', { body: who });
  expect(created.status).toBe(201);
  return who;
}

async function login(server: AuthServer, username: string) {
  const answer = await server.call('POST', '/api/v1/auth/login', {
    body: { login: username, password: PASSWORD },
  });
  expect(answer.status).toBe(200);
  return answer.body as { accessToken: string; refreshToken: string };
}

/** Revokes a token each way auth knows (each committed to the database first). */
async function revokeEveryWay(server: AuthServer): Promise<Revoked> {
  const who = await register(server);
  const loggedOut = await login(server, who.username);
  expect((await server.call('POST', '/api/v1/auth/logout', { token: loggedOut.accessToken })).status).toBe(
    204,
  );

  const other = await login(server, who.username);
  const live = await login(server, who.username);
  const sessions = await server.call('GET', '/api/v1/auth/sessions?limit=100', { token: live.accessToken });
  const otherId = (sessions.body.items as { id: string; current: boolean }[]).find(
    (s) => !s.current && s.id !== undefined,
  );
  // The newest non-current session is `other` (the logged-out one is no longer active).
  expect(otherId).toBeDefined();
  expect(
    (await server.call('DELETE', `/api/v1/auth/sessions/${otherId?.id}`, { token: live.accessToken })).status,
  ).toBe(204);

  const family = await login(server, who.username);
  const rotated = await server.call('POST', '/api/v1/auth/refresh', {
    body: { refreshToken: family.refreshToken },
  });
  expect(rotated.status).toBe(200);
  // No grace period for duplicates on this server: presenting it again is theft, the family goes.
  await forceReuseDetection(server, family.refreshToken);

  const doomed = await register(server);
  const deletedTokens = await login(server, doomed.username);
  const deleted = await server.call('DELETE', '/api/v1/users/me', {
    token: deletedTokens.accessToken,
    body: { password: PASSWORD },
  });
  expect(deleted.status).toBe(202);

  return {
    tokens: {
      logout: loggedOut.accessToken,
      'revoked session': other.accessToken,
      'refresh family': rotated.body.accessToken as string,
      'deleted account': deletedTokens.accessToken,
    },
    live: live.accessToken,
  };
}

async function forceReuseDetection(server: AuthServer, usedRefreshToken: string): Promise<void> {
  const reused = await server.call('POST', '/api/v1/auth/refresh', {
    body: { refreshToken: usedRefreshToken },
  });
  expect(reused.status).toBe(401);
  expect(reused.body.code).toBe('refresh_token_reused');
}
