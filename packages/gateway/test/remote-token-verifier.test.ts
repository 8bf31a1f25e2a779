import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REVOCATION_FEED_PATH, revocationKeys } from '@nova/contracts';
import { createMemoryStore, type KeyValueStore, UnauthenticatedError, UnavailableError } from '@nova/kernel';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRemoteTokenVerifier } from '../src/remote-token-verifier.js';

describe('remote token verifier (auth in another process)', () => {
  let server: Server;
  let authUrl: string;
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  let store: KeyValueStore;
  // What the auth side's feed lists (the real feed is tested against the auth service itself).
  const feedSessions: { id: string; until: number }[] = [];
  let feedCalls: string[] = [];

  beforeAll(async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    privateKey = pair.privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' };
    server = createServer((req, res) => {
      if (req.url === '/.well-known/jwks.json') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ keys: [jwk] }));
      } else if (req.url?.startsWith(REVOCATION_FEED_PATH)) {
        feedCalls.push(req.url);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ sessions: feedSessions, cursor: new Date().toISOString() }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    authUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    store = createMemoryStore();
  });
  afterAll(async () => {
    await store.close();
    await new Promise((r) => server.close(r));
  });

  const sign = (claims: { sub: string; sid: string; jti: string }, expiresIn = '15m', issuer = 'nova') =>
    new SignJWT({ sid: claims.sid })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setSubject(claims.sub)
      .setJti(claims.jti)
      .setIssuer(issuer)
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(privateKey);

  it('accepts a valid token and returns the principal', async () => {
    const verify = createRemoteTokenVerifier({ authUrl, securityStore: store });
    const principal = await verify(await sign({ sub: 'u1', sid: 's1', jti: 't1' }));
    expect(principal).toMatchObject({ userId: 'u1', sessionId: 's1', tokenId: 't1' });
  });

  it('rejects expired, foreign-issuer and tampered tokens with 401', async () => {
    const verify = createRemoteTokenVerifier({ authUrl, securityStore: store });
    await expect(verify(await sign({ sub: 'u1', sid: 's1', jti: 't2' }, '-1m'))).rejects.toBeInstanceOf(
      UnauthenticatedError,
    );
    await expect(
      verify(await sign({ sub: 'u1', sid: 's1', jti: 't3' }, '15m', 'evil')),
    ).rejects.toBeInstanceOf(UnauthenticatedError);
    const token = await sign({ sub: 'u1', sid: 's1', jti: 't4' });
    await expect(verify(`${token.slice(0, -4)}AAAA`)).rejects.toBeInstanceOf(UnauthenticatedError);
  });

  it('honours the shared revocation list for token, session and user', async () => {
    const verify = createRemoteTokenVerifier({ authUrl, securityStore: store });
    for (const [key, claims] of [
      [revocationKeys.token('t5'), { sub: 'u5', sid: 's5', jti: 't5' }],
      [revocationKeys.session('s6'), { sub: 'u6', sid: 's6', jti: 't6' }],
      [revocationKeys.user('u7'), { sub: 'u7', sid: 's7', jti: 't7' }],
    ] as const) {
      const token = await sign(claims);
      await expect(verify(token)).resolves.toMatchObject({ userId: claims.sub });
      await store.set(key, '1', 60_000);
      await expect(verify(token)).rejects.toBeInstanceOf(UnauthenticatedError);
    }
  });

  it('refuses sessions the feed lists though its own store never saw them, and polls for new ones', async () => {
    const own = createMemoryStore();
    const verify = createRemoteTokenVerifier({ authUrl, securityStore: own, revocationPollMs: 100 });
    const until = Math.floor(Date.now() / 1000) + 600;
    feedSessions.push({ id: 's-feed-1', until });
    feedCalls = [];
    await expect(verify(await sign({ sub: 'u9', sid: 's-feed-1', jti: 't9' }))).rejects.toBeInstanceOf(
      UnauthenticatedError,
    );
    expect(feedCalls).toEqual([REVOCATION_FEED_PATH]); // the first read is a full one
    const later = await sign({ sub: 'u10', sid: 's-feed-2', jti: 't10' });
    await expect(verify(later)).resolves.toMatchObject({ userId: 'u10' });
    feedSessions.push({ id: 's-feed-2', until });
    await new Promise((r) => setTimeout(r, 150));
    await expect(verify(later)).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(feedCalls[1]).toMatch(/\?since=/);
    // The store lost everything (a flushed Redis): the next request reads the whole feed again.
    await own.del(revocationKeys.session('s-feed-2'), revocationKeys.complete);
    await expect(verify(later)).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(feedCalls.at(-1)).toBe(REVOCATION_FEED_PATH);
    await own.close();
  });

  it('answers 503 (not 401) when the auth service cannot be reached', async () => {
    const verify = createRemoteTokenVerifier({ authUrl: 'http://127.0.0.1:9', securityStore: store });
    await expect(verify(await sign({ sub: 'u1', sid: 's1', jti: 't8' }))).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });
});
