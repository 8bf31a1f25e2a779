import type { CallResult } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHAPES } from '../support/shapes.js';
import { type AuthServer, startAuth } from '../support/start-auth.js';

const BODY_LIMIT = 16_384;
const OWNER = { email: 'owner@example.com', username: 'owner_1', password: 'a quiet harbour 7' };

interface RouteCase {
  path: string;
  authenticated: boolean;
  valid: Record<string, string>;
}

const ROUTES: RouteCase[] = [
  {
    path: '/auth/register',
    authenticated: false,
    valid: { email: 'new@example.com', username: 'newbie', password: 'a long password' },
  },
  { path: '/auth/verify-email', authenticated: false, valid: { token: 'A'.repeat(43) } },
  { path: '/auth/login', authenticated: false, valid: { login: 'nobody', password: 'a long password' } },
  {
    path: '/auth/login/2fa',
    authenticated: false,
    valid: { challengeId: '00000000-0000-4000-8000-000000000000', code: '123456' },
  },
  { path: '/auth/refresh', authenticated: false, valid: { refreshToken: 'A'.repeat(43) } },
  { path: '/auth/password/forgot', authenticated: false, valid: { email: 'nobody@example.com' } },
  {
    path: '/auth/password/reset',
    authenticated: false,
    valid: { token: 'A'.repeat(43), newPassword: 'a long password' },
  },
  {
    path: '/auth/password/change',
    authenticated: true,
    valid: { currentPassword: 'wrong password', newPassword: 'a long password' },
  },
  { path: '/auth/2fa/enable', authenticated: true, valid: { code: '123456' } },
  { path: '/auth/2fa/disable', authenticated: true, valid: { code: '123456' } },
];

// Values that are odd but short, so every rule other than their oddity holds.
const ODD_STRINGS: Record<string, string> = {
  nul: 'ab\u0000cd',
  'lone surrogate': 'ab\ud800cd',
  'lone low surrogate': '\udc00abcd',
  'rtl override': 'ab\u202ecd',
  emoji: '😀😀',
  'zero width': 'ab\u200bcd',
  '10k chars': 'a'.repeat(10_000),
  empty: '',
};

const WRONG_TYPES: Record<string, unknown> = {
  number: 12345678901,
  boolean: true,
  null: null,
  object: { nested: 'x' },
  array: ['x'],
};

interface BadCase {
  name: string;
  body?: unknown;
  raw?: string;
  contentType?: string;
  expected?: number;
}

function badCases(route: RouteCase): BadCase[] {
  const cases: BadCase[] = [
    { name: 'malformed JSON', raw: '{"a":' },
    { name: 'empty JSON body', raw: '' },
    { name: 'JSON array', body: [route.valid] },
    { name: 'JSON string', body: 'hello' },
    { name: 'JSON null', raw: 'null' },
    { name: 'missing fields', body: {} },
    { name: 'extra field', body: { ...route.valid, isAdmin: true } },
    {
      name: 'prototype pollution',
      raw: `{"__proto__":{"admin":true},${JSON.stringify(route.valid).slice(1)}`,
    },
    { name: 'text/plain', raw: JSON.stringify(route.valid), contentType: 'text/plain' },
    {
      name: 'unknown content type',
      raw: JSON.stringify(route.valid),
      contentType: 'application/x-nova',
      expected: 415,
    },
    {
      name: 'over the body limit',
      raw: JSON.stringify({ ...route.valid, pad: 'x'.repeat(BODY_LIMIT) }),
      expected: 413,
    },
  ];
  for (const field of Object.keys(route.valid)) {
    const { [field]: _dropped, ...rest } = route.valid;
    cases.push({ name: `missing ${field}`, body: rest });
    for (const [kind, value] of Object.entries(WRONG_TYPES)) {
      cases.push({ name: `${field} as ${kind}`, body: { ...route.valid, [field]: value } });
    }
    for (const [kind, value] of Object.entries(ODD_STRINGS)) {
      cases.push({ name: `${field} with ${kind}`, body: { ...route.valid, [field]: value } });
    }
  }
  return cases;
}

function expectClientProblem(response: CallResult, label: string, expected?: number): void {
  const detail = `${label}: ${response.status} ${JSON.stringify(response.body)?.slice(0, 300)}`;
  if (expected) expect(response.status, detail).toBe(expected);
  expect(response.status, detail).toBeGreaterThanOrEqual(400);
  expect(response.status, detail).toBeLessThan(500);
  expect(response.headers.get('content-type'), detail).toContain('application/problem+json');
  expect(typeof response.body?.code, detail).toBe('string');
  expect(response.body.code.length, detail).toBeGreaterThan(0);
}

describe.each(SHAPES)('bad input on every auth route ($name)', (shape) => {
  let server: AuthServer;
  let accessToken: string;

  const countRows = async (table: 'users' | 'sessions' | 'totp') => {
    const database = await server.kernel.databases.open<{ [t: string]: { id: string } }>('auth');
    const row = await database.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };

  beforeAll(async () => {
    server = await startAuth({
      ...shape,
      env: {
        NOVA_BODY_LIMIT_BYTES: String(BODY_LIMIT),
        LOGIN_MAX_FAILURES: '1000',
        LOGIN_MAX_FAILURES_PER_IP: '100000',
      },
    });
    expect((await server.call('POST', '/api/v1/auth/register', { body: OWNER })).status).toBe(201);
    const login = await server.call('POST', '/api/v1/auth/login', {
      body: { login: OWNER.username, password: OWNER.password },
    });
    accessToken = login.body.accessToken;
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(ROUTES)('$path answers 4xx problem+json to every bad body and changes nothing', async (route) => {
    const before = await Promise.all([countRows('users'), countRows('sessions'), countRows('totp')]);
    for (const bad of badCases(route)) {
      const headers: Record<string, string> = bad.contentType ? { 'content-type': bad.contentType } : {};
      const response = await server.call('POST', `/api/v1${route.path}`, {
        ...(bad.raw !== undefined ? { raw: bad.raw } : { body: bad.body }),
        headers,
        token: route.authenticated ? accessToken : undefined,
      });
      expectClientProblem(response, `${route.path} ${bad.name}`, bad.expected);
    }
    expect(await Promise.all([countRows('users'), countRows('sessions'), countRows('totp')])).toEqual(before);
  });

  it('authenticated routes refuse missing, malformed and forged tokens', async () => {
    const forged = `${accessToken.slice(0, -6)}AAAAAA`;
    const headers: Record<string, string>[] = [
      {},
      { authorization: 'Bearer' },
      { authorization: 'Basic abc' },
      { authorization: `Bearer ${forged}` },
    ];
    const routes: [string, string][] = [
      ['POST', '/api/v1/auth/logout'],
      ['GET', '/api/v1/auth/sessions'],
      ['DELETE', '/api/v1/auth/sessions/00000000-0000-4000-8000-000000000000'],
      ['POST', '/api/v1/auth/2fa/setup'],
      ['POST', '/api/v1/auth/password/change'],
      ['DELETE', '/api/v1/users/me'],
    ];
    for (const [method, path] of routes) {
      for (const header of headers) {
        expectClientProblem(await server.call(method, path, { headers: header }), `${method} ${path}`, 401);
      }
    }
  });

  it('query strings and path parameters are validated too', async () => {
    const token = accessToken;
    for (const query of [
      'limit=0',
      'limit=101',
      'limit=abc',
      'limit=1.5',
      `cursor=${'x'.repeat(600)}`,
      'cursor=%00',
      'cursor=eyJ9',
    ]) {
      expectClientProblem(await server.call('GET', `/api/v1/auth/sessions?${query}`, { token }), query);
    }
    for (const id of ['x'.repeat(65), '%00', '%F0%9F%98%80', 'a%E2%80%AEb']) {
      expectClientProblem(
        await server.call('DELETE', `/api/v1/auth/sessions/${id}`, { token }),
        `session id ${id}`,
      );
    }
    // An encoded lone surrogate is refused by Fastify's router before any handler
    // (FST_ERR_BAD_URL, rendered by Fastify itself rather than as problem+json).
    expect((await server.call('DELETE', '/api/v1/auth/sessions/%ED%A0%80', { token })).status).toBe(400);
    expect((await server.call('GET', '/api/v1/auth/sessions', { token })).status).toBe(200);
  });

  it('the owner account is untouched after all of it', async () => {
    const login = await server.call('POST', '/api/v1/auth/login', {
      body: { login: OWNER.email, password: OWNER.password },
    });
    expect(login.status).toBe(200);
    expect(login.body.accessToken).toEqual(expect.any(String));
  });
});
