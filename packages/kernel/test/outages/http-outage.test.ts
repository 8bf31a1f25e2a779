import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  createDatabaseProvider,
  createHealthRegistry,
  createHttpServer,
  createMetricsRegistry,
  createStores,
  type DatabaseProvider,
  loadConfig,
  type NovaApp,
  type Principal,
  type Stores,
  UnauthenticatedError,
} from '../../src/index.js';
import { freePort } from '../../src/testing/index.js';

/**
 * The answers a client sees while the stores are unreachable: a route's
 * own query, and the token check every authenticated route runs first.
 * The unreachable servers are real ports with nobody listening.
 */
describe('HTTP answers during an outage', () => {
  let app: NovaApp;
  let stores: Stores;
  let databases: DatabaseProvider;

  beforeAll(async () => {
    const config = loadConfig({
      REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/postgres`,
      REDIS_COMMAND_TIMEOUT_MS: '300',
      DATABASE_CONNECT_TIMEOUT_MS: '300',
    });
    const logger = pino({ level: 'silent' });
    stores = createStores(config, logger);
    databases = createDatabaseProvider({ config, logger });
    const database = await databases.open('public');
    const health = createHealthRegistry();
    for (const check of stores.healthChecks) health.register(check);
    health.register({ name: 'db-public', required: true, check: () => database.ping() });
    // A verifier shaped like auth's: signature fine, then the revocation lookup in the store.
    const verify = async (token: string): Promise<Principal> => {
      if (token !== 'good-token') throw new UnauthenticatedError();
      const marks = await stores.stores.security.mget(['revoked:t1']);
      if (marks[0] !== null) throw new UnauthenticatedError('token_revoked');
      return { userId: 'u1', sessionId: 's1', tokenId: 't1', expiresAt: 9_999_999_999 };
    };
    app = await createHttpServer({
      config,
      logger,
      metrics: createMetricsRegistry(),
      health,
      getTokenVerifier: () => verify,
    });
    await app.register(
      async (scope: NovaApp) => {
        scope.get('/count', { config: { auth: 'public' } }, async () => {
          const result = await sql<{ n: number }>`select 1 as n`.execute(database.db);
          return { n: result.rows[0]?.n };
        });
        scope.get('/cached', { config: { auth: 'public' } }, async () => ({
          value: await stores.stores.cache.get('k'),
        }));
        scope.get(
          '/me',
          { schema: { response: { 200: Type.Object({ id: Type.String() }) } } },
          async (request) => ({
            id: request.principal?.userId ?? '',
          }),
        );
      },
      { prefix: API_PREFIX },
    );
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await stores?.close();
    await databases?.close();
  });

  function expectOutageAnswer(response: Awaited<ReturnType<NovaApp['inject']>>, code: string): void {
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    const body = response.json();
    expect(body).toMatchObject({ status: 503, code, type: `urn:nova:problem:${code}` });
    expect(body.traceId).toEqual(expect.any(String));
    // No driver message, host or port reaches the client.
    expect(response.body).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|timed out|Connection/);
  }

  it('a valid token whose revocation check cannot reach Redis gets 503, never 401', async () => {
    const response = await app.inject({
      method: 'GET',
      url: `${API_PREFIX}/me`,
      headers: { authorization: 'Bearer good-token' },
    });
    expectOutageAnswer(response, 'store_unavailable');
  });

  it('a bad token is still a 401: the outage does not hide it', async () => {
    const response = await app.inject({
      method: 'GET',
      url: `${API_PREFIX}/me`,
      headers: { authorization: 'Bearer forged' },
    });
    expect(response.statusCode).toBe(401);
  });

  it('a route whose query cannot reach PostgreSQL gets 503 problem+json, not 500', async () => {
    expectOutageAnswer(
      await app.inject({ method: 'GET', url: `${API_PREFIX}/count` }),
      'database_unavailable',
    );
  });

  it('a route whose cache read cannot reach Redis gets 503', async () => {
    expectOutageAnswer(await app.inject({ method: 'GET', url: `${API_PREFIX}/cached` }), 'store_unavailable');
  });

  it('/health/ready answers 503 and names every failing dependency', async () => {
    const response = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(response.statusCode).toBe(503);
    expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
    expect(response.json()).toMatchObject({
      status: 'down',
      checks: {
        'redis-security': { status: 'down' },
        'redis-cache': { status: 'down' },
        'redis-realtime': { status: 'down' },
        'db-public': { status: 'down' },
      },
    });
  });
});
