import { mkdtempSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyApi } from '../../src/boot/index.js';
import { forwardedPrincipalHeaders } from '../../src/http/forwarded-principal.js';
import { createLogger, defineSyncApi, type ServiceModule } from '../../src/index.js';
import { createSyncClient } from '../../src/sync/grpc/index.js';
import { type StartedModules, startModules } from '../../src/testing/index.js';
import { connect } from '../realtime/socket-client.js';
import { idsEdgeContracts as contracts, ids } from '../support/ids-edge.js';

/**
 * A split process serves its public HTTP routes, its WebSocket and its gRPC
 * sync API on one port (NOVA_<SERVICE>_URL=http://host:port names it): the
 * first bytes of each connection pick the protocol. Driven as clients do:
 * fetch, the `ws` client and the sync API's own gRPC client.
 */
const TOKEN = 'i'.repeat(32);
/** The token a rotation rolls out before it becomes NOVA_INTERNAL_TOKEN. */
const NEXT_TOKEN = 'n'.repeat(32);
const echoApi = defineSyncApi('echo', 1, {
  echo: {
    request: Type.Object({ text: Type.String(), delayMs: Type.Optional(Type.Integer()) }),
    response: Type.Object({ text: Type.String(), caller: Type.String() }),
    idempotent: true,
  },
});

const echoModule: ServiceModule<AnyApi> = {
  name: 'echo',
  dependsOn: [],
  syncApi: echoApi,
  migrationsDir: mkdtempSync(path.join(os.tmpdir(), 'nova-shared-port-')),
  async init() {
    return {
      api: {
        echo: async (request: unknown, context: unknown) => {
          const { text, delayMs } = request as { text: string; delayMs?: number };
          if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
          return { text, caller: (context as { caller: string }).caller };
        },
      },
      routes: {
        api: (app) => {
          app.post(
            '/echo',
            { config: { auth: 'public' }, schema: { body: Type.Object({ text: Type.String() }) } },
            async (request) => ({ text: request.body.text }),
          );
          app.get('/me', async (request) => ({ userId: request.principal?.userId }));
        },
      },
    };
  },
};

const logger = createLogger('silent');

/** Two requests on one kept-alive connection, the second with a body: the sniffed bytes must not be lost. */
function twoOnOneConnection(baseUrl: string): Promise<string[]> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const answers: string[] = [];
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, pathName: string, body?: string) =>
      new Promise<void>((done, fail) => {
        const req = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            method,
            path: pathName,
            agent,
            headers: body ? { 'content-type': 'application/json' } : {},
          },
          (res) => {
            let text = '';
            res.on('data', (c) => (text += c));
            res.on('end', () => {
              answers.push(`${res.statusCode} ${text} ${String(req.reusedSocket)}`);
              done();
            });
          },
        );
        req.on('error', fail);
        req.end(body);
      });
    send('GET', '/health/live')
      .then(() => send('POST', '/api/v1/echo', JSON.stringify({ text: 'kept alive' })))
      .then(() => {
        agent.destroy();
        resolve(answers);
      }, reject);
  });
}

describe('one port for HTTP, WebSocket and gRPC (a split target)', () => {
  let nova: StartedModules;
  let baseUrl: string;

  beforeAll(async () => {
    nova = await startModules({
      modules: [echoModule],
      contracts,
      provided: { ids },
      env: {
        NOVA_TARGET: 'echo',
        NOVA_INTERNAL_TOKEN: TOKEN,
        NOVA_INTERNAL_TOKENS_ACCEPTED: NEXT_TOKEN,
        NOVA_SHUTDOWN_TIMEOUT_MS: '10000',
      },
    });
    baseUrl = nova.baseUrl as string;
  });
  afterAll(() => nova.close());

  const client = (token = TOKEN) =>
    createSyncClient(echoApi, {
      url: baseUrl,
      caller: 'shared-port-test',
      internalToken: token,
      logger,
      metrics: new Registry(),
    });

  it('answers HTTP, a gRPC call and a socket on the HTTP port', async () => {
    expect(nova.booted.grpcPort()).toBe(Number(new URL(baseUrl).port));
    const http = await nova.call('POST', '/api/v1/echo', { body: { text: 'over http' } });
    expect(http).toMatchObject({ status: 200, body: { text: 'over http' } });
    const grpc = client();
    try {
      await expect(grpc.echo({ text: 'over grpc' })).resolves.toEqual({
        text: 'over grpc',
        caller: 'shared-port-test',
      });
    } finally {
      grpc.close();
    }
    const socket = await connect(baseUrl, { token: 'user-ada' });
    socket.ws.close();
    expect((await nova.call('GET', '/api/v1/me', { token: 'user-ada' })).body).toEqual({ userId: 'ada' });
  });

  it('keeps HTTP keep-alive and request bodies intact after the first bytes were read', async () => {
    const answers = await twoOnOneConnection(baseUrl);
    expect(answers[0]).toMatch(/^200 .*"ok".* false$/);
    expect(answers[1]).toBe('200 {"text":"kept alive"} true');
  });

  it('still refuses gRPC callers without the internal token', async () => {
    const grpc = client('w'.repeat(32));
    try {
      await expect(grpc.echo({ text: 'x' })).rejects.toMatchObject({ status: 500 });
    } finally {
      grpc.close();
    }
  });

  it('accepts a token of NOVA_INTERNAL_TOKENS_ACCEPTED (a rotation) on gRPC and on a forwarded caller, and no other', async () => {
    const rotated = client(NEXT_TOKEN);
    try {
      await expect(rotated.echo({ text: 'rotated' })).resolves.toMatchObject({ text: 'rotated' });
    } finally {
      rotated.close();
    }
    const principal = { userId: 'grace', sessionId: 's', tokenId: 't', expiresAt: Date.now() / 1000 + 60 };
    const me = (secret: string) =>
      fetch(`${baseUrl}/api/v1/me`, { headers: forwardedPrincipalHeaders(principal, secret) });
    for (const secret of [TOKEN, NEXT_TOKEN]) {
      const answer = await me(secret);
      expect(answer.status).toBe(200);
      expect(await answer.json()).toEqual({ userId: 'grace' });
    }
    expect((await me('w'.repeat(32))).status).toBe(401);
  });

  it('serves a race of HTTP requests, gRPC calls and sockets at once, each answered as itself', async () => {
    const grpc = client();
    try {
      const work = Array.from({ length: 60 }, (_, i) => {
        if (i % 3 === 0)
          return nova.call('POST', '/api/v1/echo', { body: { text: `h${i}` } }).then((a) => a.body.text);
        if (i % 3 === 1) return grpc.echo({ text: `g${i}` }).then((a) => a.text);
        return connect(baseUrl, { token: `user-u${i}` }).then((s) => {
          s.ws.close();
          return `s${i}`;
        });
      });
      const results = await Promise.all(work);
      expect(results).toEqual(Array.from({ length: 60 }, (_, i) => `${'hgs'[i % 3]}${i}`));
    } finally {
      grpc.close();
    }
  });

  it('drains on shutdown: an in-flight gRPC call finishes, sockets close with 1001, well before the deadline', async () => {
    const grpc = client();
    const socket = await connect(baseUrl, { token: 'user-bo' });
    const slow = grpc.echo({ text: 'in flight', delayMs: 400 }, { deadlineMs: 5000 });
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await nova.booted.stop();
    const took = Date.now() - started;
    await expect(slow).resolves.toMatchObject({ text: 'in flight' });
    expect((await socket.closed).code).toBe(1001);
    expect(took).toBeLessThan(5000);
    await expect(fetch(`${baseUrl}/health/live`)).rejects.toThrow();
    grpc.close();
  });
});
