import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StartedModules } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NovaApiError, NovaClient, type SessionTokens } from '../../packages/client/src/index.js';
import { type SignedUpUser, signUp, startNovaInProcess } from './support.js';

describe('the SDK REST client against Nova (all-in-one, in process)', () => {
  let nova: StartedModules;
  let baseUrl: string;
  let ada: SignedUpUser;

  beforeAll(async () => {
    nova = await startNovaInProcess();
    baseUrl = nova.baseUrl as string;
    ada = await signUp(baseUrl, 'rest');
  });
  afterAll(async () => {
    await nova?.close();
  });

  it('throws a problem+json answer as NovaApiError with its status, code and members', async () => {
    const error = await new NovaClient({ baseUrl })
      .register({
        email: `other-${ada.username}@example.com`,
        username: ada.username,
        password: 'long enough pw',
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NovaApiError);
    expect(error).toMatchObject({ status: 409, code: 'username_taken' });
    const invalid = await ada.client
      .publishKeys({
        deviceId: 'bad id!',
        identityKey: 'AAAA',
        signedPreKey: 'AAAA',
        oneTimePreKeys: [],
      })
      .catch((e: unknown) => e);
    expect(invalid).toMatchObject({ status: 400 });
    expect((invalid as NovaApiError).problem.errors?.length).toBeGreaterThan(0);
  });

  it('refreshes a refused access token once for concurrent callers and retries them', async () => {
    const login = new NovaClient({ baseUrl });
    await login.login(ada.username, ada.password);
    const good = login.session as SessionTokens;
    let refreshes = 0;
    const changes: (SessionTokens | undefined)[] = [];
    const client = new NovaClient({
      baseUrl,
      // A stale access token (a tampered one here) with a valid refresh token.
      tokens: { accessToken: `${good.accessToken}x`, refreshToken: good.refreshToken },
      onTokensChanged: (tokens) => changes.push(tokens),
      fetch: (input, init) => {
        if (new URL((input as Request).url).pathname === '/api/v1/auth/refresh') refreshes += 1;
        return fetch(input, init);
      },
    });
    const answers = await Promise.all(Array.from({ length: 6 }, () => client.me()));
    expect(answers.map((me) => me.id)).toEqual(Array(6).fill(ada.id));
    expect(refreshes).toBe(1);
    expect(changes).toHaveLength(1);
    expect(client.session?.refreshToken).not.toBe(good.refreshToken);
  });

  it('a refused refresh ends the session: the tokens are cleared and the 401 surfaces', async () => {
    const changes: (SessionTokens | undefined)[] = [];
    const client = new NovaClient({
      baseUrl,
      tokens: { accessToken: 'not-a-token', refreshToken: 'not-a-refresh-token' },
      onTokensChanged: (tokens) => changes.push(tokens),
    });
    expect(await client.me().catch((e: unknown) => e)).toMatchObject({ status: 401 });
    expect(client.session).toBeUndefined();
    expect(changes).toEqual([undefined]);
  });
});

describe('the SDK REST client against a server that stops answering', () => {
  let silent: Server;
  beforeAll(async () => {
    silent = createServer(() => undefined); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('aborts a request after requestTimeoutMs', async () => {
    const { port } = silent.address() as AddressInfo;
    const client = new NovaClient({ baseUrl: `http://127.0.0.1:${port}`, requestTimeoutMs: 300 });
    const started = Date.now();
    const error = await client.me().catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
