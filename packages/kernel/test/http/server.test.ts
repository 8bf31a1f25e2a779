import net, { type AddressInfo } from 'node:net';
import { Type } from '@sinclair/typebox';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  createHealthRegistry,
  createHttpServer,
  createMetricsRegistry,
  errorResponses,
  loadConfig,
  type NovaApp,
  type Principal,
  RateLimitedError,
  requirePrincipal,
  UnauthenticatedError,
} from '../../src/index.js';

const principal: Principal = { userId: 'u1', sessionId: 's1', tokenId: 't1', expiresAt: 9_999_999_999 };

async function verifier(token: string): Promise<Principal> {
  if (token === 'good-token') return principal;
  throw new UnauthenticatedError();
}

function buildServer(options: { withVerifier?: boolean } = {}) {
  const logLines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logLines.push(line) });
  const health = createHealthRegistry();
  const metrics = createMetricsRegistry();
  const config = loadConfig({ NOVA_BODY_LIMIT_BYTES: '2048' });
  const server = createHttpServer({
    config,
    logger,
    metrics,
    health,
    getTokenVerifier: () => (options.withVerifier === false ? undefined : verifier),
    title: 'Test API',
  });
  return { server, logLines, health };
}

const User = Type.Object({ id: Type.String(), email: Type.String() });

async function testRoutes(app: NovaApp) {
  app.post(
    '/users',
    {
      config: { auth: 'public' },
      schema: {
        body: Type.Object(
          {
            email: Type.String({ format: 'email' }),
            username: Type.String({ minLength: 3 }),
            age: Type.Optional(Type.Integer({ minimum: 13 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: User, ...errorResponses(400, 409) },
      },
    },
    async (request, reply) => reply.code(201).send({ id: 'x', email: request.body.email }),
  );
  app.get(
    '/items',
    {
      config: { auth: 'public' },
      schema: { querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100 }) }) },
    },
    async (request) => {
      // A handler that writes to its query object must not change what the next request gets.
      const query = request.query as { limit: number; seen?: boolean };
      const seenBefore = query.seen === true;
      query.seen = true;
      return { limit: query.limit, seenBefore };
    },
  );
  app.get(
    '/boom',
    { config: { auth: 'public' }, schema: { response: { 200: User, ...errorResponses(500) } } },
    async () => {
      throw new Error('password=hunter2 SELECT * FROM users WHERE secret_column = 1');
    },
  );
  app.get('/limited', { config: { auth: 'public' }, schema: { response: { 200: User } } }, async () => {
    throw new RateLimitedError(42);
  });
  app.get('/me', {}, async (request) => ({ userId: requirePrincipal(request).userId }));
  app.get('/maybe', { config: { auth: 'optional' } }, async (request) => ({
    userId: request.principal?.userId ?? null,
  }));
  app.get('/users/:id', { schema: { params: Type.Object({ id: Type.String() }) } }, async (request) => ({
    id: request.params.id,
  }));
}

describe('createHttpServer', () => {
  let app: NovaApp;
  let logLines: string[];

  beforeAll(async () => {
    const built = buildServer();
    logLines = built.logLines;
    built.health.register({ name: 'db', required: true, check: async () => {} });
    built.health.register({
      name: 'search',
      required: false,
      check: async () => {
        throw new Error('search is down');
      },
    });
    app = await built.server;
    await app.register(testRoutes, { prefix: API_PREFIX });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers every schema failure with its field', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `${API_PREFIX}/users`,
      payload: { email: 'not-an-email', username: 'ab', age: 3, extra: true },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const body = res.json();
    expect(body).toMatchObject({
      type: 'urn:nova:problem:validation_failed',
      status: 400,
      code: 'validation_failed',
    });
    const fields = body.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(['/age', '/email', '/extra', '/username']);
    expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(body.traceId).not.toBe('0'.repeat(32));
  });

  it('names the incoming W3C trace in problem+json traceId (tracing off)', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await app.inject({
      method: 'POST',
      url: `${API_PREFIX}/users`,
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      payload: { email: 'a@b.co' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().traceId).toBe(traceId);
    const bad = await app.inject({
      method: 'POST',
      url: `${API_PREFIX}/users`,
      headers: { traceparent: 'garbage' },
      payload: { email: 'a@b.co' },
    });
    expect(bad.json().traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(bad.json().traceId).not.toBe(traceId);
  });

  it('names a missing required field', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `${API_PREFIX}/users`,
      payload: { email: 'a@b.co' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([expect.objectContaining({ field: '/username' })]);
  });

  it('does not coerce body types (a number is not a string)', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `${API_PREFIX}/users`,
      payload: { email: 'a@b.co', username: 12345678901 },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([expect.objectContaining({ field: '/username' })]);
  });

  it('answers 415 problem+json for a text/plain body', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `${API_PREFIX}/users`,
      headers: { 'content-type': 'text/plain' },
      payload: 'email=a@b.co',
    });
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe('unsupported_media_type');
  });

  it('answers a malformed URL with 400 problem+json', async () => {
    const res = await app.inject({ method: 'GET', url: `${API_PREFIX}/items/%ED%A0%80` });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json().code).toBe('bad_url');
  });

  it('converts a repeated query string the same way each time, a fresh object per request', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await app.inject({ method: 'GET', url: `${API_PREFIX}/items?limit=20` });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ limit: 20, seenBefore: false });
    }
    for (const bad of ['1.5', '1e1', '500']) {
      const res = await app.inject({ method: 'GET', url: `${API_PREFIX}/items?limit=${bad}` });
      expect(res.statusCode).toBe(400);
    }
  });

  it('prefixes query-string fields', async () => {
    const res = await app.inject({ method: 'GET', url: `${API_PREFIX}/items?limit=500` });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([expect.objectContaining({ field: 'query/limit' })]);
  });

  it('serves a valid request through the response schema', async () => {
    const res = await app.inject({
      method: 'POST',
      url: `${API_PREFIX}/users`,
      payload: { email: 'a@b.co', username: 'alice' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ id: 'x', email: 'a@b.co' });
  });

  it('rejects malformed JSON, an empty JSON body, a large body and an unknown content type', async () => {
    const headers = { 'content-type': 'application/json' };
    const bad = await app.inject({
      method: 'POST',
      url: `${API_PREFIX}/users`,
      headers,
      payload: '{"email":',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('invalid_json');

    const empty = await app.inject({ method: 'POST', url: `${API_PREFIX}/users`, headers, payload: '' });
    expect(empty.statusCode).toBe(400);
    expect(empty.headers['content-type']).toContain('application/problem+json');

    const large = await app.inject({
      method: 'POST',
      url: `${API_PREFIX}/users`,
      headers,
      payload: JSON.stringify({ email: 'a@b.co', username: 'x'.repeat(5000) }),
    });
    expect(large.statusCode).toBe(413);
    expect(large.json().code).toBe('payload_too_large');

    const xml = await app.inject({
      method: 'POST',
      url: `${API_PREFIX}/users`,
      headers: { 'content-type': 'application/xml' },
      payload: '<a/>',
    });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().code).toBe('unsupported_media_type');
  });

  it('answers unknown routes with 404 route_not_found, without demanding auth', async () => {
    const res = await app.inject({ method: 'GET', url: `${API_PREFIX}/nope?token=abc` });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'route_not_found', instance: `${API_PREFIX}/nope` });
  });

  it('hides unexpected errors behind a generic 500 and logs the stack', async () => {
    const res = await app.inject({ method: 'GET', url: `${API_PREFIX}/boom` });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ code: 'internal_error', status: 500 });
    expect(res.body).not.toContain('hunter2');
    expect(res.body).not.toContain('SELECT');
    expect(res.body).not.toContain('.ts:');
    const logged = logLines.map((l) => JSON.parse(l)).find((l) => l.level === 50 && l.err);
    expect(logged?.err.stack).toContain('hunter2');
    expect(logged?.reqId).toBe(res.headers['x-request-id']);
  });

  it('maps RateLimitedError to 429 with Retry-After', async () => {
    const res = await app.inject({ method: 'GET', url: `${API_PREFIX}/limited` });
    expect(res.statusCode).toBe(429);
    expect(res.headers['retry-after']).toBe('42');
    expect(res.json()).toMatchObject({ code: 'rate_limited', retryAfter: 42 });
  });

  it('enforces auth on required routes', async () => {
    const none = await app.inject({ method: 'GET', url: `${API_PREFIX}/me` });
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('unauthenticated');
    const bad = await app.inject({
      method: 'GET',
      url: `${API_PREFIX}/me`,
      headers: { authorization: 'Bearer nope' },
    });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().code).toBe('invalid_token');
    const malformed = await app.inject({
      method: 'GET',
      url: `${API_PREFIX}/me`,
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(malformed.statusCode).toBe(401);
    const ok = await app.inject({
      method: 'GET',
      url: `${API_PREFIX}/me`,
      headers: { authorization: 'Bearer good-token' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ userId: 'u1' });
  });

  it('verifies tokens on optional routes only when one is sent', async () => {
    const anon = await app.inject({ method: 'GET', url: `${API_PREFIX}/maybe` });
    expect(anon.json()).toEqual({ userId: null });
    const authed = await app.inject({
      method: 'GET',
      url: `${API_PREFIX}/maybe`,
      headers: { authorization: 'Bearer good-token' },
    });
    expect(authed.json()).toEqual({ userId: 'u1' });
    const bad = await app.inject({
      method: 'GET',
      url: `${API_PREFIX}/maybe`,
      headers: { authorization: 'Bearer bad' },
    });
    expect(bad.statusCode).toBe(401);
  });

  it('publishes an OpenAPI 3.1 document with security on non-public routes', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Test API');
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.Problem).toBeDefined();
    expect(doc.paths[`${API_PREFIX}/users/{id}`].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths[`${API_PREFIX}/me`].get.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths[`${API_PREFIX}/maybe`].get.security).toEqual([{ bearerAuth: [] }, {}]);
    expect(doc.paths[`${API_PREFIX}/users`].post.security).toBeUndefined();
    expect(Object.keys(doc.paths[`${API_PREFIX}/users`].post.responses['409'].content)).toEqual([
      'application/problem+json',
    ]);
    expect(doc.paths['/health/live'].get.security).toBeUndefined();
  });

  it('serves the docs page without auth', async () => {
    const res = await app.inject({ method: 'GET', url: '/docs' });
    const page =
      res.statusCode === 302 ? await app.inject({ method: 'GET', url: res.headers.location as string }) : res;
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
  });

  it('reports liveness and readiness with a degraded optional check', async () => {
    const live = await app.inject({ method: 'GET', url: '/health/live' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(200);
    const body = ready.json();
    expect(body.status).toBe('degraded');
    expect(body.checks.db.status).toBe('ok');
    expect(body.checks.search).toEqual({ status: 'degraded', latencyMs: expect.any(Number) });
    expect(ready.body).not.toContain('search is down');
  });

  it('records request durations by route pattern', async () => {
    await app.inject({
      method: 'GET',
      url: `${API_PREFIX}/users/abc`,
      headers: { authorization: 'Bearer good-token' },
    });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(
      /nova_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/users\/:id",status_code="200"\} 1/,
    );
    expect(res.body).toContain('route="unmatched"');
    expect(res.body).toContain('nova_process_cpu_user_seconds_total');
  });

  it('echoes a sane x-request-id and replaces an unsafe one', async () => {
    const sane = await app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(sane.headers['x-request-id']).toBe('abc-123');
    const unsafe = await app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'bad id\u0000'.repeat(3) },
    });
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const long = await app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'a'.repeat(129) },
    });
    expect(long.headers['x-request-id']).not.toBe('a'.repeat(129));
  });
});

describe('createHttpServer without a verifier or with a failing required check', () => {
  it('answers 503 on required routes and on readiness', async () => {
    const built = buildServer({ withVerifier: false });
    built.health.register({
      name: 'postgres',
      required: true,
      check: () => new Promise(() => {}),
    });
    const app = await built.server;
    await app.register(testRoutes, { prefix: API_PREFIX });
    await app.ready();
    try {
      const me = await app.inject({
        method: 'GET',
        url: `${API_PREFIX}/me`,
        headers: { authorization: 'Bearer x' },
      });
      expect(me.statusCode).toBe(503);
      expect(me.json().code).toBe('unavailable');
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'down', checks: { postgres: { status: 'down' } } });
    } finally {
      await app.close();
    }
  });

  it('answers a request that reaches a closing instance with a 503 problem, Retry-After and Connection: close', async () => {
    const built = buildServer();
    const app = await built.server;
    let release: () => void = () => {};
    let started: () => void = () => {};
    const inFlight = new Promise<void>((resolve) => {
      started = resolve;
    });
    app.get('/slow', { config: { auth: 'public' } }, async () => {
      started();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return { ok: true };
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
    });
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
    await inFlight;
    const closed = app.close();
    // Pipelined on the busy connection: it is read after the close began.
    socket.write('GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await closed;
    await ended;
    const answers = received.split(/(?=HTTP\/1\.1 )/);
    expect(answers[0]).toMatch(/^HTTP\/1\.1 200/);
    expect(answers[1]).toMatch(/^HTTP\/1\.1 503/);
    expect(answers[1]).toMatch(/\r\nretry-after: 1\r\n/i);
    expect(answers[1]).toMatch(/\r\nconnection: close\r\n/i);
    expect(answers[1]).toMatch(/\r\ncontent-type: application\/problem\+json/i);
    expect(answers[1]).toContain('"code":"shutting_down"');
  });
});
