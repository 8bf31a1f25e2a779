import { randomBytes } from 'node:crypto';
import { DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { NOVA_CONTRACTS } from '@nova/contracts';
import { type BootedGateway, bootGateway } from '@nova/gateway';
import { createLogger, loadConfig } from '@nova/kernel';
import {
  createPostgresTestDatabase,
  deleteRedisPrefix,
  type PostgresTestDatabase,
  privateRedisPrefix,
  type StartedModules,
  startModules,
  TEST_REDIS_URL,
} from '@nova/kernel/testing';
import { createS3BlobStore, createS3Client, ensureBucket, type S3Settings } from '@nova/s3';
import { exportJWK, generateKeyPair } from 'jose';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CONFIG_COMPOSITION } from '../../apps/nova/src/commands/load-config.js';
import { REGISTRY } from '../../apps/nova/src/modules.js';
import { connect, upgradeStatus } from '../../packages/kernel/test/realtime/socket-client.js';
import { startNovaInProcess } from '../client/support.js';

/**
 * The gateway in front of two service processes, driven like a client.
 * Processes A and B both run the services' code on ONE PostgreSQL database
 * and Redis prefix (so an account made through A exists for B); the gateway
 * sends auth, social, messaging and notifications to A, content, feed,
 * analytics and live to B. Which process answered is read from its own
 * request metrics; B is stopped and started again for the outage walk.
 * Both run content, so both must see ONE blob store, as every deployment
 * does (S3_BUCKET): with a data dir each, whichever process leased an
 * upload might not hold its original (notes: gwbench-media).
 */
const s3Endpoint = inject('s3Endpoint') || process.env.NOVA_TEST_S3_ENDPOINT || '';
const s3: S3Settings = {
  bucket: `nova-gateway-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`,
  region: 'us-east-1',
  endpoint: s3Endpoint,
  credentials: { accessKeyId: 'nova', secretAccessKey: 'nova-test-secret' },
};
const ADAPTERS = { s3: createS3BlobStore };
const INTERNAL_TOKEN = randomBytes(24).toString('base64url');
const ALLOWED_ORIGIN = 'https://app.example.test';
const ON_A = ['auth', 'social', 'messaging', 'notifications', 'analytics'];
const ON_B = ['content', 'feed', 'live'];

let database: PostgresTestDatabase;
let redisPrefix: string;
let sharedEnv: Record<string, string>;
let a: StartedModules;
let b: StartedModules;
let bPort: string;
let gateway: BootedGateway;
let gatewayUrl: string;
const gateways: BootedGateway[] = [];
const STANDARD_ENV = {
  ARGON2_MEMORY_KIB: '8192',
  ARGON2_TIME_COST: '1',
  REGISTER_MAX_PER_IP: '1000000',
  RTMP_PORT: '0',
};

async function startGateway(extra: Record<string, string> = {}): Promise<{ gw: BootedGateway; url: string }> {
  const env: Record<string, string> = {
    NOVA_TARGET: 'gateway',
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'silent',
    REDIS_URL: TEST_REDIS_URL,
    // Each gateway its own counters, as if each test had its own deployment.
    REDIS_KEY_PREFIX: `${redisPrefix}gw${gateways.length}:`,
    NOVA_INTERNAL_TOKEN: INTERNAL_TOKEN,
    NOVA_CORS_ORIGINS: ALLOWED_ORIGIN,
    NOVA_GATEWAY_BREAKER_FAILURES: '3',
    NOVA_GATEWAY_BREAKER_OPEN_MS: '500',
    ...Object.fromEntries(ON_A.map((s) => [`NOVA_${s.toUpperCase()}_URL`, a.baseUrl as string])),
    ...Object.fromEntries(ON_B.map((s) => [`NOVA_${s.toUpperCase()}_URL`, `http://127.0.0.1:${bPort}`])),
    ...extra,
  };
  const config = loadConfig(env, CONFIG_COMPOSITION);
  const gw = await bootGateway(config, createLogger('silent'));
  gateways.push(gw);
  return { gw, url: await gw.start() };
}

// Embedded ClickHouse is one per process: B runs every service but analytics.
const startB = () =>
  startModules({
    modules: Object.values(REGISTRY.modules).filter((m) => m.name !== 'analytics'),
    contracts: NOVA_CONTRACTS,
    env: { ...STANDARD_ENV, ...sharedEnv, PORT: bPort },
    adapters: ADAPTERS,
  });

/** How many requests a process answered for a route pattern (its own metrics). */
async function served(process: StartedModules, route: string): Promise<number> {
  const text = await (await fetch(`${process.baseUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('nova_http_request_duration_seconds_count{') && line.includes(`route="${route}"`))
      total += Number(line.split(' ').pop());
  }
  return total;
}

interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers field by field
  body: any;
}

async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body };
}

async function signUp(base: string, username: string): Promise<{ id: string; token: string }> {
  const password = 'correct horse battery staple';
  const registered = await call(base, 'POST', '/api/v1/auth/register', {
    body: { email: `${username}@example.test`, username, password },
  });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  const login = await call(base, 'POST', '/api/v1/auth/login', { body: { login: username, password } });
  expect(login.status).toBe(200);
  const token = login.body.accessToken as string;
  for (let i = 0; i < 200; i++) {
    const me = await call(base, 'GET', '/api/v1/users/me', { token });
    if (me.status === 200) return { id: me.body.id, token };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`profile of ${username} never appeared`);
}

beforeAll(async () => {
  database = await createPostgresTestDatabase();
  redisPrefix = privateRedisPrefix('gateway');
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  sharedEnv = {
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_KEY_PREFIX: redisPrefix,
    NOVA_INTERNAL_TOKEN: INTERNAL_TOKEN,
    // The gateway's X-Forwarded-For is believed: per-IP throttles see the client.
    NOVA_TRUSTED_PROXIES: '127.0.0.1',
    AUTH_SIGNING_KEYS: JSON.stringify([await exportJWK(privateKey)]),
    AUTH_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    LOG_LEVEL: 'silent',
    ...(s3Endpoint
      ? {
          S3_BUCKET: s3.bucket,
          S3_ENDPOINT: s3Endpoint,
          S3_ACCESS_KEY_ID: 'nova',
          S3_SECRET_ACCESS_KEY: 'nova-test-secret',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        }
      : {}),
  };
  if (s3Endpoint) await ensureBucket(s3);
  a = await startNovaInProcess({ env: sharedEnv, adapters: ADAPTERS });
  bPort = String(await freePort());
  b = await startB();
  ({ gw: gateway, url: gatewayUrl } = await startGateway());
}, 180_000);

afterAll(async () => {
  for (const gw of gateways) await gw.stop().catch(() => undefined);
  await b?.close();
  await a?.close();
  await database?.drop();
  if (redisPrefix) await deleteRedisPrefix(redisPrefix);
  if (s3Endpoint) {
    const client = createS3Client(s3);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
    for (const object of listed.Contents ?? [])
      await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: object.Key }));
    await client.send(new DeleteBucketCommand({ Bucket: s3.bucket }));
  }
}, 60_000);

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

describe('the gateway in front of the services', () => {
  it('routes each path to the process of the service that registered it', async () => {
    const ada = await signUp(gatewayUrl, `gw_ada_${randomBytes(3).toString('hex')}`);
    const beforeA = await served(a, '/api/v1/posts');
    const beforeB = await served(b, '/api/v1/posts');
    const post = await call(gatewayUrl, 'POST', '/api/v1/posts', {
      token: ada.token,
      body: { text: 'via the gateway' },
    });
    expect(post.status, JSON.stringify(post.body)).toBe(201);
    expect(await served(b, '/api/v1/posts')).toBe(beforeB + 1);
    expect(await served(a, '/api/v1/posts')).toBe(beforeA);
    // Same prefix, other service: /users/:id/posts is content's (B), /users/:id/followers social's (A).
    const followersA = await served(a, '/api/v1/users/:id/followers');
    expect(
      (await call(gatewayUrl, 'GET', `/api/v1/users/${ada.id}/followers`, { token: ada.token })).status,
    ).toBe(200);
    expect(await served(a, '/api/v1/users/:id/followers')).toBe(followersA + 1);
    const postsB = await served(b, '/api/v1/users/:id/posts');
    const page = await call(gatewayUrl, 'GET', `/api/v1/users/${ada.id}/posts`, { token: ada.token });
    expect(page.status).toBe(200);
    expect(page.body.items.map((p: { text: string }) => p.text)).toEqual(['via the gateway']);
    expect(await served(b, '/api/v1/users/:id/posts')).toBe(postsB + 1);
    // The keys that verify tokens, and an unknown path: the gateway's own 404 problem.
    expect((await call(gatewayUrl, 'GET', '/.well-known/jwks.json')).body.keys).toHaveLength(1);
    const unknown = await call(gatewayUrl, 'GET', '/api/v1/nowhere');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    expect(gateway.upstreams.content?.circuit).toBe('closed');
    // Auth's revocation feed is for edges, not for clients.
    expect((await call(gatewayUrl, 'GET', '/internal/auth/revocations')).status).toBe(404);
  });

  it('verifies the token once at the edge: a bad or revoked token is a 401 there, never forwarded', async () => {
    const bo = await signUp(gatewayUrl, `gw_bo_${randomBytes(3).toString('hex')}`);
    const before = await served(b, '/api/v1/feed');
    const bad = await call(gatewayUrl, 'GET', '/api/v1/feed', { token: `${bo.token.slice(0, -4)}AAAA` });
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe('invalid_token');
    expect((await call(gatewayUrl, 'GET', '/api/v1/feed')).status).toBe(401);
    expect(await served(b, '/api/v1/feed')).toBe(before);
    expect((await call(gatewayUrl, 'GET', '/api/v1/feed', { token: bo.token })).status).toBe(200);
    expect((await call(gatewayUrl, 'POST', '/api/v1/auth/logout', { token: bo.token })).status).toBe(204);
    // Revocations reach the edge through auth's feed within one poll (2 s).
    let status = 0;
    for (let i = 0; i < 60 && status !== 401; i++) {
      status = (await call(gatewayUrl, 'GET', '/api/v1/feed', { token: bo.token })).status;
      if (status !== 401) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(401);
  });

  it('passes the identity it verified as a signed header the services trust, and a forged one is ignored', async () => {
    const cy = await signUp(gatewayUrl, `gw_cy_${randomBytes(3).toString('hex')}`);
    // Straight at B with a forged principal and no token: B ignores the header.
    const forged = Buffer.from(
      JSON.stringify({ userId: cy.id, sessionId: 's', tokenId: 't', expiresAt: Date.now() / 1000 + 600 }),
    ).toString('base64url');
    const direct = await call(b.baseUrl as string, 'GET', '/api/v1/feed', {
      headers: { 'x-nova-principal': forged, 'x-nova-principal-signature': 'AAAA' },
    });
    expect(direct.status).toBe(401);
    // Through the gateway, a client's own x-nova-principal is stripped: the token decides.
    const spoof = await call(gatewayUrl, 'GET', '/api/v1/users/me', {
      headers: { 'x-nova-principal': forged, 'x-nova-principal-signature': 'AAAA' },
    });
    expect(spoof.status).toBe(401);
    expect((await call(gatewayUrl, 'GET', '/api/v1/users/me', { token: cy.token })).body.id).toBe(cy.id);
  });

  it('relays the realtime socket to the socket service, frames both ways, 401 at the edge without a token', async () => {
    const dee = await signUp(gatewayUrl, `gw_dee_${randomBytes(3).toString('hex')}`);
    expect(await upgradeStatus(gatewayUrl)).toBe(401);
    expect(await upgradeStatus(gatewayUrl, { token: 'not-a-token' })).toBe(401);
    const socket = await connect(gatewayUrl, { token: dee.token, queryToken: true });
    socket.send({ channel: 'socket', type: 'ping' });
    expect(await socket.next((f) => f.channel === 'socket' && f.type === 'pong')).toBeDefined();
    // A notification pushed by A's services reaches the socket through the gateway.
    const eve = await signUp(gatewayUrl, `gw_eve_${randomBytes(3).toString('hex')}`);
    expect(
      (await call(gatewayUrl, 'POST', `/api/v1/users/${dee.id}/follow`, { token: eve.token })).status,
    ).toBe(200);
    const frame = await socket.next((f) => f.channel === 'notification', 15_000);
    expect(frame.type).toBe('upsert');
    socket.ws.close(1000);
    expect((await socket.closed).code).toBe(1000);
  });

  it('applies CORS from the allow-list at the edge', async () => {
    const preflight = (origin: string) =>
      call(gatewayUrl, 'OPTIONS', '/api/v1/posts', {
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      });
    const allowed = await preflight(ALLOWED_ORIGIN);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    const refused = await preflight('https://evil.example.test');
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('cors_origin_forbidden');
    const read = await call(gatewayUrl, 'GET', '/.well-known/jwks.json', {
      headers: { origin: ALLOWED_ORIGIN },
    });
    expect(read.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    const foreign = await call(gatewayUrl, 'GET', '/.well-known/jwks.json', {
      headers: { origin: 'https://evil.example.test' },
    });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('limits each user and each IP in Redis: a race over the limit gets exactly the excess as 429 problem+json', async () => {
    const limited = await startGateway({
      NOVA_GATEWAY_RATE_LIMIT_PER_USER: '5',
      NOVA_GATEWAY_RATE_LIMIT_PER_IP: '1000',
    });
    const fay = await signUp(gatewayUrl, `gw_fay_${randomBytes(3).toString('hex')}`);
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => call(limited.url, 'GET', '/api/v1/users/me', { token: fay.token })),
    );
    expect(answers.filter((x) => x.status === 200)).toHaveLength(5);
    const refused = answers.filter((x) => x.status === 429);
    expect(refused).toHaveLength(7);
    expect(refused[0]?.headers.get('content-type')).toContain('application/problem+json');
    expect(refused[0]?.body.code).toBe('rate_limited');
    expect(Number(refused[0]?.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another user is not affected by fay's count.
    const gus = await signUp(gatewayUrl, `gw_gus_${randomBytes(3).toString('hex')}`);
    expect((await call(limited.url, 'GET', '/api/v1/users/me', { token: gus.token })).status).toBe(200);

    const perIp = await startGateway({ NOVA_GATEWAY_RATE_LIMIT_PER_IP: '4' });
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () =>
        call(perIp.url, 'GET', '/.well-known/jwks.json').then((x) => x.status),
      ),
    );
    expect(statuses.filter((x) => x === 200)).toHaveLength(4);
    expect(statuses.filter((x) => x === 429)).toHaveLength(6);
    // Two gateway instances on one Redis share the counts.
    const twin = await startGateway({
      NOVA_GATEWAY_RATE_LIMIT_PER_IP: '4',
      REDIS_KEY_PREFIX: `${redisPrefix}gw${gateways.length - 1}:`,
    });
    expect((await call(twin.url, 'GET', '/.well-known/jwks.json')).status).toBe(429);
    const metrics = await (await fetch(`${perIp.url}/metrics`)).text();
    expect(metrics).toMatch(/nova_gateway_rate_limited_total\{scope="ip"\} 6/);
  });

  it('retries only idempotent requests, and only when the upstream could not be reached', async () => {
    // An upstream that accepts connections and drops them: the request never gets an answer.
    const { createServer } = await import('node:net');
    let connections = 0;
    const dropper = createServer((socket) => {
      socket.once('data', (head: Buffer) => {
        // The gateway also asks every upstream for its OpenAPI document: only the proxied requests count.
        if (head.toString().includes('/api/v1/streams')) connections++;
        socket.destroy();
      });
    });
    await new Promise<void>((r) => dropper.listen(0, '127.0.0.1', r));
    const port = (dropper.address() as { port: number }).port;
    try {
      const flaky = await startGateway({
        NOVA_LIVE_URL: `http://127.0.0.1:${port}`,
        NOVA_GATEWAY_RETRIES: '2',
        NOVA_GATEWAY_BREAKER_FAILURES: '100',
      });
      const hal = await signUp(gatewayUrl, `gw_hal_${randomBytes(3).toString('hex')}`);
      const read = await call(flaky.url, 'GET', '/api/v1/streams/live', { token: hal.token });
      expect(read.status).toBe(503);
      expect(read.body.code).toBe('upstream_unavailable');
      expect(connections).toBe(3);
      connections = 0;
      const write = await call(flaky.url, 'POST', '/api/v1/streams', { token: hal.token, body: {} });
      expect(write.status).toBe(503);
      expect(connections).toBe(1);
      const metrics = await (await fetch(`${flaky.url}/metrics`)).text();
      expect(metrics).toMatch(/nova_gateway_upstream_retries_total\{upstream="live"\} 2/);
    } finally {
      await new Promise((r) => dropper.close(r));
    }
  });

  it('serves the merged OpenAPI document of the services and the docs page', async () => {
    const document = (await call(gatewayUrl, 'GET', '/openapi.json')).body;
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/api/v1/auth/login', '/api/v1/posts', '/api/v1/analytics/me', '/api/v1/feed']),
    );
    expect(document.components.schemas.Problem).toBeDefined();
    const docs = await fetch(`${gatewayUrl}/docs/json`);
    expect(((await docs.json()) as { paths: object }).paths).toHaveProperty('/api/v1/posts');
    expect((await fetch(`${gatewayUrl}/docs/`)).status).toBe(200);
  });

  it('answers 503 for the paths of a service that is down while the rest serves, and recovers when it returns', async () => {
    const ivy = await signUp(gatewayUrl, `gw_ivy_${randomBytes(3).toString('hex')}`);
    await b.close();
    // A race while B is away: content's and feed's paths 503, social's and auth's 200.
    const during = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        i % 2 === 0
          ? call(gatewayUrl, 'GET', i % 4 === 0 ? `/api/v1/users/${ivy.id}/posts` : '/api/v1/feed', {
              token: ivy.token,
            })
          : call(gatewayUrl, 'GET', '/api/v1/users/me', { token: ivy.token }),
      ),
    );
    for (const [i, answer] of during.entries()) {
      if (i % 2 === 0) {
        expect(answer.status).toBe(503);
        expect(answer.headers.get('content-type')).toContain('application/problem+json');
        expect(answer.body.code).toBe('upstream_unavailable');
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
      } else {
        expect(answer.status).toBe(200);
      }
    }
    expect(gateway.upstreams.content?.circuit).toBe('open');
    expect(gateway.upstreams.social?.circuit).toBe('closed');
    // The open circuit answers at once, without trying B.
    const started = performance.now();
    const refused = await call(gatewayUrl, 'GET', `/api/v1/users/${ivy.id}/posts`, { token: ivy.token });
    expect(refused.status).toBe(503);
    expect(performance.now() - started).toBeLessThan(200);
    const ready = await call(gatewayUrl, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.checks['upstream-content'].status).toBe('degraded');
    expect(ready.body.checks['upstream-social'].status).toBe('ok');
    const metrics = await (await fetch(`${gatewayUrl}/metrics`)).text();
    expect(metrics).toMatch(/nova_gateway_circuit_open\{upstream="content"\} 1/);
    expect(metrics).toMatch(
      /nova_gateway_upstream_errors_total\{upstream="content",reason="circuit_open"\} \d+/,
    );

    b = await startB();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await call(gatewayUrl, 'GET', `/api/v1/users/${ivy.id}/posts`, { token: ivy.token })).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    expect(gateway.upstreams.content?.circuit).toBe('closed');
    const after = await (await fetch(`${gatewayUrl}/metrics`)).text();
    expect(after).toMatch(/nova_gateway_circuit_open\{upstream="content"\} 0/);
    expect(after).toMatch(
      /nova_gateway_upstream_duration_seconds_count\{upstream="content",method="GET",status_class="2xx"\} \d+/,
    );
  });

  // Without S3 (NOVA_TEST_S3=off) A and B would each have their own blob store.
  it.skipIf(s3Endpoint === '')(
    'streams a media upload through to content and its variants back',
    async () => {
      const jo = await signUp(gatewayUrl, `gw_jo_${randomBytes(3).toString('hex')}`);
      const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#2060c0' } })
        .jpeg()
        .toBuffer();
      const form = new FormData();
      form.append('file', new Blob([photo]), 'photo.jpg');
      const uploaded = await fetch(`${gatewayUrl}/api/v1/media`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jo.token}` },
        body: form,
      });
      expect(uploaded.status).toBe(202);
      const { id } = (await uploaded.json()) as { id: string };
      let media: Answer | undefined;
      // Processing runs behind the rest of a loaded suite: the bound is generous.
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        media = await call(gatewayUrl, 'GET', `/api/v1/media/${id}`, { token: jo.token });
        if (media.body.status !== 'processing') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(media?.body.status).toBe('ready');
      // With S3 the item names presigned bucket URLs; the variant route reads the same store through the gateway.
      const presigned = await fetch(String(media?.body.variants.small));
      expect(presigned.status).toBe(200);
      const viaGateway = await fetch(`${gatewayUrl}/api/v1/media/${id}/variants/small`, {
        headers: { authorization: `Bearer ${jo.token}` },
      });
      expect(viaGateway.status).toBe(200);
      const bodies = [
        Buffer.from(await presigned.arrayBuffer()),
        Buffer.from(await viaGateway.arrayBuffer()),
      ];
      for (const bytes of bodies) expect((await sharp(bytes).metadata()).format).toBe('webp');
      // Not media: content's own 415 comes back through the gateway.
      const text = new FormData();
      text.append('file', new Blob([Buffer.from('just text')]), 'notes.txt');
      const refused = await fetch(`${gatewayUrl}/api/v1/media`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jo.token}` },
        body: text,
      });
      expect(refused.status).toBe(415);
    },
    180_000,
  );

  it('closes relayed sockets with 1001 when the gateway stops', async () => {
    const own = await startGateway();
    const kim = await signUp(gatewayUrl, `gw_kim_${randomBytes(3).toString('hex')}`);
    const socket = await connect(own.url, { token: kim.token });
    const started = Date.now();
    await own.gw.stop();
    expect((await socket.closed).code).toBe(1001);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
