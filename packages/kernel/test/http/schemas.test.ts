import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  createHealthRegistry,
  createHttpServer,
  createMetricsRegistry,
  decodeCursor,
  encodeCursor,
  errorResponses,
  IdParam,
  loadConfig,
  type NovaApp,
  Page,
  PageQuery,
  redactUrlQuery,
  requirePrincipal,
  ValidationError,
} from '../../src/index.js';

const CursorShape = Type.Object({ createdAt: Type.String(), id: Type.String() });

describe('cursors', () => {
  it('round-trips a position', () => {
    const cursor = encodeCursor({ createdAt: '2026-01-01T00:00:00Z', id: 'p1' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, CursorShape)).toEqual({ createdAt: '2026-01-01T00:00:00Z', id: 'p1' });
  });

  it.each([
    ['not base64url', '!!!'],
    ['not JSON', Buffer.from('{oops').toString('base64url')],
    ['the wrong shape', encodeCursor({ id: 5 })],
  ])('refuses %s with invalid_cursor', (_label, cursor) => {
    let caught: unknown;
    try {
      decodeCursor(cursor, CursorShape);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).code).toBe('invalid_cursor');
    expect((caught as ValidationError).status).toBe(400);
  });
});

describe('redactUrlQuery', () => {
  it('masks credential-bearing query values only', () => {
    expect(redactUrlQuery('/ws?deviceId=d1&accessToken=abc.def')).toBe(
      '/ws?deviceId=d1&accessToken=[redacted]',
    );
    expect(redactUrlQuery('/plain')).toBe('/plain');
  });
});

describe('shared route schemas', () => {
  let app: NovaApp;
  const logLines: string[] = [];

  beforeAll(async () => {
    app = await createHttpServer({
      config: loadConfig({}),
      logger: pino({ level: 'info' }, { write: (l: string) => logLines.push(l) }),
      metrics: createMetricsRegistry(),
      health: createHealthRegistry(),
      getTokenVerifier: () => async (token) => {
        if (token !== 'valid') throw new Error('bad signature');
        return { userId: 'u9', sessionId: 's', tokenId: 't', expiresAt: 0 };
      },
    });
    await app.register(
      async (api: NovaApp) => {
        api.get(
          '/things/:id/items',
          {
            config: { auth: 'public' },
            schema: {
              params: IdParam,
              querystring: PageQuery,
              response: { 200: Page(Type.Object({ n: Type.Integer() })), ...errorResponses(400) },
            },
          },
          async (request) => ({
            items: Array.from({ length: request.query.limit }, (_, n) => ({ n })),
            nextCursor: request.query.cursor ?? null,
          }),
        );
        api.post(
          '/domain-check',
          { config: { auth: 'public' }, schema: { response: { 200: Type.Object({ ok: Type.Boolean() }) } } },
          async () => {
            throw new ValidationError('Handle is taken.', [{ field: '/username', message: 'is reserved' }]);
          },
        );
        api.get('/ws-like', { config: { acceptQueryToken: true } }, async (request) => ({
          userId: requirePrincipal(request).userId,
        }));
      },
      { prefix: API_PREFIX },
    );
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  it('defaults limit to 20 and serializes a page', async () => {
    const res = await app.inject({ method: 'GET', url: `${API_PREFIX}/things/abc_1/items` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.items).toHaveLength(20);
    expect(body.nextCursor).toBeNull();
  });

  it('publishes limit as optional, 20 by default and 100 at most', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    const operation = res.json().paths[`${API_PREFIX}/things/{id}/items`].get;
    const limit = operation.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit).toMatchObject({ in: 'query', required: false, schema: { default: 20, maximum: 100 } });
    const id = operation.parameters.find((p: { name: string }) => p.name === 'id');
    expect(id.required).toBe(true);
  });

  it('validates limit, cursor and id together', async () => {
    const res = await app.inject({
      method: 'GET',
      url: `${API_PREFIX}/things/abc/items?limit=101&cursor=${'x'.repeat(513)}`,
    });
    expect(res.statusCode).toBe(400);
    const fields = res
      .json()
      .errors.map((e: { field: string }) => e.field)
      .sort();
    expect(fields).toEqual(['query/cursor', 'query/limit']);
    const badId = await app.inject({ method: 'GET', url: `${API_PREFIX}/things/a.b/items` });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().errors[0].field).toBe('params/id');
  });

  it('renders a domain ValidationError with its issues despite the route response schema', async () => {
    const res = await app.inject({ method: 'POST', url: `${API_PREFIX}/domain-check` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'validation_failed',
      detail: 'Handle is taken.',
      errors: [{ field: '/username', message: 'is reserved' }],
    });
  });

  it('treats a verifier crash on a token as invalid_token', async () => {
    const res = await app.inject({
      method: 'GET',
      url: `${API_PREFIX}/ws-like`,
      headers: { authorization: 'Bearer forged' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('invalid_token');
  });

  it('accepts ?accessToken= where the route allows it, and keeps it out of the logs', async () => {
    const ok = await app.inject({ method: 'GET', url: `${API_PREFIX}/ws-like?accessToken=valid` });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ userId: 'u9' });
    const bad = await app.inject({ method: 'GET', url: `${API_PREFIX}/ws-like?accessToken=forged` });
    expect(bad.statusCode).toBe(401);
    const logs = logLines.join('');
    expect(logs).toContain('accessToken=[redacted]');
    expect(logs).not.toContain('accessToken=valid');
    expect(logs).not.toContain('forged');
  });
});
