import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_PREFIX,
  ConfigError,
  createHealthRegistry,
  createHttpServer,
  createMetricsRegistry,
  loadConfig,
  type NovaApp,
  type Principal,
  UnauthenticatedError,
} from '../../src/index.js';

const principal: Principal = { userId: 'u1', sessionId: 's1', tokenId: 't1', expiresAt: 9_999_999_999 };

async function build(env: Record<string, string> = {}): Promise<NovaApp> {
  const app = await createHttpServer({
    config: loadConfig(env),
    logger: pino({ level: 'silent' }),
    metrics: createMetricsRegistry(),
    health: createHealthRegistry(),
    getTokenVerifier: () => async (token) => {
      if (token === 'good') return principal;
      throw new UnauthenticatedError();
    },
  });
  await app.register(
    async (scope: NovaApp) => {
      scope.get('/me', async (request) => ({ id: request.principal?.userId }));
      scope.get('/whoami', { config: { auth: 'public' } }, async (request) => ({ ip: request.ip }));
      scope.get('/boom', { config: { auth: 'public' } }, async () => {
        throw new Error('unexpected');
      });
      scope.post('/echo', { config: { auth: 'public' } }, async (request) => request.body);
    },
    { prefix: API_PREFIX },
  );
  await app.ready();
  return app;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

describe('security headers', () => {
  let app: NovaApp;
  let https: NovaApp;
  beforeAll(async () => {
    app = await build({ NOVA_PUBLIC_URL: 'http://localhost:8080' });
    https = await build({ NOVA_PUBLIC_URL: 'https://nova.example.com' });
  });
  afterAll(async () => {
    await app.close();
    await https.close();
  });

  it.each([
    ['a success', 'GET', '/health/live', undefined, 200],
    ['a 401', 'GET', `${API_PREFIX}/me`, undefined, 401],
    ['a 404 (no such route)', 'GET', '/nope', undefined, 404],
    ['a 500', 'GET', `${API_PREFIX}/boom`, undefined, 500],
    ['a 400 (malformed JSON)', 'POST', `${API_PREFIX}/echo`, '{', 400],
    ['a 400 raised before routing (malformed URL)', 'GET', '/%E0%A4%A', undefined, 400],
  ] as const)('are on %s', async (_name, method, url, payload, status) => {
    const response = await app.inject({
      method,
      url,
      payload,
      headers: payload === undefined ? {} : { 'content-type': 'application/json' },
    });
    expect(response.statusCode).toBe(status);
    expect(response.headers).toMatchObject(SECURITY_HEADERS);
    expect(response.headers['strict-transport-security']).toBeUndefined();
  });

  it('HSTS only when NOVA_PUBLIC_URL is https', async () => {
    for (const url of ['/health/live', '/nope']) {
      const response = await https.inject({ method: 'GET', url });
      expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(response.headers).toMatchObject(SECURITY_HEADERS);
    }
  });
});

describe('CORS from NOVA_CORS_ORIGINS', () => {
  const allowed = 'https://app.example.com';
  let app: NovaApp;
  let closed: NovaApp;
  beforeAll(async () => {
    app = await build({ NOVA_CORS_ORIGINS: `${allowed}, http://localhost:5173` });
    closed = await build();
  });
  afterAll(async () => {
    await app.close();
    await closed.close();
  });

  const preflight = (target: NovaApp, origin: string) =>
    target.inject({
      method: 'OPTIONS',
      url: `${API_PREFIX}/me`,
      headers: {
        origin,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });

  it('answers a preflight from an allowed origin, without asking for a token', async () => {
    const response = await preflight(app, allowed);
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(allowed);
    expect(response.headers['access-control-allow-methods']).toContain('PATCH');
    expect(response.headers['access-control-allow-headers']).toContain('authorization');
    expect(response.headers['access-control-allow-credentials']).toBeUndefined();
    expect(response.headers.vary).toContain('Origin');
  });

  it('refuses a preflight from any other origin, and never answers with a wildcard', async () => {
    for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.com', 'null']) {
      const response = await preflight(app, origin);
      expect(response.statusCode).toBe(403);
      expect(response.json().code).toBe('cors_origin_forbidden');
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
    }
    const none = await preflight(closed, allowed);
    expect(none.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('marks actual responses (errors included) for allowed origins only', async () => {
    const ok = await app.inject({
      method: 'GET',
      url: `${API_PREFIX}/me`,
      headers: { origin: allowed, authorization: 'Bearer good' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe(allowed);
    expect(ok.headers['access-control-expose-headers']).toContain('retry-after');
    const denied = await app.inject({ method: 'GET', url: `${API_PREFIX}/me`, headers: { origin: allowed } });
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['access-control-allow-origin']).toBe(allowed);
    const foreign = await app.inject({
      method: 'GET',
      url: `${API_PREFIX}/me`,
      headers: { origin: 'https://evil.example.com', authorization: 'Bearer good' },
    });
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses a wildcard or a non-origin in the configuration', () => {
    for (const value of ['*', 'https://app.example.com/path', 'app.example.com', 'ftp://x.example.com']) {
      expect(() => loadConfig({ NOVA_CORS_ORIGINS: value })).toThrow(ConfigError);
    }
  });
});

describe('/metrics access', () => {
  let app: NovaApp;
  beforeAll(async () => {
    app = await build({ NOVA_METRICS_ALLOW: '10.1.0.0/16', NOVA_METRICS_TOKEN: 'scrape-token-0123456789' });
  });
  afterAll(() => app.close());

  const scrape = (remoteAddress: string, authorization?: string) =>
    app.inject({
      method: 'GET',
      url: '/metrics',
      remoteAddress,
      headers: authorization ? { authorization } : {},
    });

  it('is open to the configured networks', async () => {
    const response = await scrape('10.1.2.3');
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('nova_http_request_duration_seconds');
  });

  it('is open to any address with the token, and closed without it', async () => {
    expect((await scrape('198.51.100.7', 'Bearer scrape-token-0123456789')).statusCode).toBe(200);
    for (const auth of [
      undefined,
      'Bearer wrong',
      'Bearer scrape-token-012345678',
      'scrape-token-0123456789',
    ]) {
      const response = await scrape('198.51.100.7', auth);
      expect(response.statusCode).toBe(403);
      expect(response.json().code).toBe('metrics_forbidden');
      expect(response.body).not.toContain('nova_http');
    }
  });

  it('defaults to loopback only', async () => {
    const local = await build();
    try {
      expect(
        (await local.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' })).statusCode,
      ).toBe(200);
      expect((await local.inject({ method: 'GET', url: '/metrics', remoteAddress: '::1' })).statusCode).toBe(
        200,
      );
      expect(
        (await local.inject({ method: 'GET', url: '/metrics', remoteAddress: '::ffff:127.0.0.1' }))
          .statusCode,
      ).toBe(200);
      expect(
        (await local.inject({ method: 'GET', url: '/metrics', remoteAddress: '192.0.2.1' })).statusCode,
      ).toBe(403);
    } finally {
      await local.close();
    }
  });
});

describe('client IP and X-Forwarded-For (over a real socket)', () => {
  async function whoami(env: Record<string, string>, forwardedFor: string): Promise<string> {
    const app = await build(env);
    try {
      const address = await app.listen({ port: 0, host: '127.0.0.1' });
      const response = await fetch(`${address}${API_PREFIX}/whoami`, {
        headers: { 'x-forwarded-for': forwardedFor },
      });
      return ((await response.json()) as { ip: string }).ip;
    } finally {
      await app.close();
    }
  }

  it('ignores a spoofed X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    expect(await whoami({}, '203.0.113.50')).toBe('127.0.0.1');
    expect(await whoami({ NOVA_TRUSTED_PROXIES: '10.0.0.0/8' }, '203.0.113.50')).toBe('127.0.0.1');
  });

  it('takes the client from X-Forwarded-For when the peer is a trusted proxy, stopping at untrusted hops', async () => {
    expect(await whoami({ NOVA_TRUSTED_PROXIES: '127.0.0.1/32' }, '203.0.113.50')).toBe('203.0.113.50');
    // The client prepended a fake hop; the proxy appended the address it saw. Only the latter counts.
    expect(await whoami({ NOVA_TRUSTED_PROXIES: '127.0.0.1' }, '1.1.1.1, 203.0.113.50')).toBe('203.0.113.50');
  });

  it('refuses a malformed proxy or metrics network list', () => {
    for (const value of ['10.0.0.0/33', 'proxy.local', '10.0.0.1/8/2', '::1/129']) {
      expect(() => loadConfig({ NOVA_TRUSTED_PROXIES: value })).toThrow(ConfigError);
      expect(() => loadConfig({ NOVA_METRICS_ALLOW: value })).toThrow(ConfigError);
    }
  });
});
