import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMemoryStore, type KeyValueStore } from '@nova/kernel';
import { decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthConfig } from '../../src/config.js';
import { createSecretBox, loadSecretBox } from '../../src/keys/secret-box.js';
import { generateSigningJwk, importSigningKeys, loadSigningKeys } from '../../src/keys/signing-keys.js';
import { createFileTransport } from '../../src/mail/mail-transport.js';
import { createAccessTokens } from '../../src/security/access-tokens.js';
import { createRevocations } from '../../src/security/revocations.js';
import { loadAuthConfig } from '../support/config.js';

// No session was ever revoked in a database here: the durable source is empty.
const revocationsIn = (store: KeyValueStore) =>
  createRevocations({ store, accessTtlSeconds: 900, source: async () => [] });

let dataDir: string;
let config: AuthConfig;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'nova-auth-keys-'));
  config = loadAuthConfig({ NOVA_DATA_DIR: dataDir, NOVA_ENV: 'test' });
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('signing keys', () => {
  it('are generated once under dataDir/keys (0600) and reused on the next start', async () => {
    const first = await loadSigningKeys(config);
    const second = await loadSigningKeys(config);
    expect(second.currentKid).toBe(first.currentKid);
    const file = path.join(dataDir, 'keys', 'signing-keys.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dataDir, 'keys'))).mode & 0o777).toBe(0o700);
    expect(first.jwks.keys).toEqual([
      { kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: first.currentKid, alg: 'EdDSA', use: 'sig' },
    ]);
    expect(JSON.stringify(first.jwks)).not.toContain('"d"');
  });

  it('agree on one key when processes start concurrently', async () => {
    const sets = await Promise.all(Array.from({ length: 8 }, () => loadSigningKeys(config)));
    expect(new Set(sets.map((s) => s.currentKid)).size).toBe(1);
    expect((await readdir(path.join(dataDir, 'keys'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('come from AUTH_SIGNING_KEYS when set; after a rotation old tokens keep verifying', async () => {
    const oldKey = await generateSigningJwk();
    const newKey = await generateSigningJwk();
    const store = createMemoryStore();
    const before = await importSigningKeys([oldKey]);
    const issued = await createAccessTokens(before, revocationsIn(store), 900).issue('u1', 's1');

    const rotated = loadAuthConfig({
      NOVA_DATA_DIR: dataDir,
      AUTH_SIGNING_KEYS: JSON.stringify([newKey, oldKey]),
    });
    const after = await loadSigningKeys(rotated);
    expect(after.currentKid).toBe(newKey.kid);
    expect(after.jwks.keys.map((k) => k.kid)).toEqual([newKey.kid, oldKey.kid]);
    const tokens = createAccessTokens(after, revocationsIn(store), 900);
    await expect(tokens.verify(issued.token)).resolves.toMatchObject({ userId: 'u1', sessionId: 's1' });
    const fresh = await tokens.issue('u2', 's2');
    expect(decodeProtectedHeader(fresh.token).kid).toBe(newKey.kid);

    // Once the old key is dropped, what it signed stops verifying.
    const dropped = createAccessTokens(await importSigningKeys([newKey]), revocationsIn(store), 900);
    await expect(dropped.verify(issued.token)).rejects.toMatchObject({ status: 401, code: 'invalid_token' });
    await store.close();
  });

  it('refuse keys that are not Ed25519 private JWKs', async () => {
    const key = await generateSigningJwk();
    await expect(importSigningKeys([{ ...key, d: undefined }])).rejects.toThrow(/Ed25519 private/);
    await expect(importSigningKeys([{ kty: 'RSA' }])).rejects.toThrow(/Ed25519/);
    await expect(importSigningKeys([])).rejects.toThrow(/empty/);
  });
});

describe('access tokens', () => {
  it('carry sub, sid, jti, iat, exp, iss and are refused once revoked', async () => {
    const store = createMemoryStore();
    const tokens = createAccessTokens(await loadSigningKeys(config), revocationsIn(store), 600);
    const issued = await tokens.issue('user-1', 'session-1');
    const principal = await tokens.verify(issued.token);
    expect(principal).toEqual({
      userId: 'user-1',
      sessionId: 'session-1',
      tokenId: issued.jti,
      expiresAt: expect.any(Number),
    });
    expect(principal.expiresAt - Math.floor(Date.now() / 1000)).toBeGreaterThan(590);
    for (const key of [`revoked:jti:${issued.jti}`, 'revoked:sid:session-1', 'revoked:user:user-1']) {
      await store.set(key, '1', 60_000);
      await expect(tokens.verify(issued.token)).rejects.toMatchObject({ code: 'invalid_token' });
      await store.del(key);
    }
    await expect(tokens.verify(issued.token)).resolves.toBeDefined();
    const [h, p, s] = issued.token.split('.');
    await expect(tokens.verify(`${h}.${p}.${s!.slice(0, -4)}AAAA`)).rejects.toMatchObject({ status: 401 });
    await expect(tokens.verify('not-a-jwt')).rejects.toMatchObject({ status: 401 });
    await store.close();
  });

  it('check the signature once per token, but expiry and revocation on every use', async () => {
    const store = createMemoryStore();
    const tokens = createAccessTokens(await loadSigningKeys(config), revocationsIn(store), 1);
    const issued = await tokens.issue('u', 's');
    await expect(tokens.verify(issued.token)).resolves.toMatchObject({ userId: 'u' });
    const [h, p, s] = issued.token.split('.');
    // A forged signature on the same claims is a different string: never served from the cache.
    await expect(tokens.verify(`${h}.${p}.${s!.slice(0, -4)}AAAA`)).rejects.toMatchObject({
      code: 'invalid_token',
    });
    await store.set('revoked:sid:s', '1', 60_000);
    await expect(tokens.verify(issued.token)).rejects.toMatchObject({ code: 'invalid_token' });
    await store.del('revoked:sid:s');
    await new Promise((r) => setTimeout(r, (issued.expiresIn + 1) * 1000 - (Date.now() % 1000)));
    await expect(tokens.verify(issued.token)).rejects.toMatchObject({ code: 'invalid_token' });
    await store.close();
  });

  it('are refused when signed by a key not in the set', async () => {
    const store = createMemoryStore();
    const foreign = createAccessTokens(
      await importSigningKeys([await generateSigningJwk()]),
      revocationsIn(store),
      600,
    );
    const ours = createAccessTokens(await loadSigningKeys(config), revocationsIn(store), 600);
    await expect(ours.verify((await foreign.issue('u', 's')).token)).rejects.toMatchObject({
      code: 'invalid_token',
    });
    await store.close();
  });
});

describe('secret box', () => {
  it('round-trips, binds the context and detects tampering', async () => {
    const box = await loadSecretBox(config);
    const sealed = box.seal('JBSWY3DPEHPK3PXP', 'user-1');
    expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
    expect(box.open(sealed, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(() => box.open(sealed, 'user-2')).toThrow();
    const parts = sealed.split('.');
    parts[3] = `${parts[3]!.startsWith('A') ? 'B' : 'A'}${parts[3]!.slice(1)}`;
    expect(() => box.open(parts.join('.'), 'user-1')).toThrow();
    // The generated key persists: a restart opens what the last run sealed.
    expect((await loadSecretBox(config)).open(sealed, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
    expect((await stat(path.join(dataDir, 'keys', 'encryption.key'))).mode & 0o777).toBe(0o600);
  });

  it('uses AUTH_ENCRYPTION_KEY when configured', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const configured = await loadSecretBox(
      loadAuthConfig({ NOVA_DATA_DIR: dataDir, AUTH_ENCRYPTION_KEY: key }),
    );
    const sealed = configured.seal('s', 'c');
    expect(createSecretBox(Buffer.alloc(32, 7)).open(sealed, 'c')).toBe('s');
    expect(() => createSecretBox(Buffer.alloc(16))).toThrow(/32 bytes/);
  });

  it('opens with an accepted key, re-seals under the sealing key, and derives with the sealing key only', async () => {
    const [oldKey, newKey, strangerKey] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2), Buffer.alloc(32, 3)];
    const before = createSecretBox(oldKey);
    const sealedBefore = before.seal('JBSWY3DPEHPK3PXP', 'user-1');
    const rotating = await loadSecretBox(
      loadAuthConfig({
        NOVA_DATA_DIR: dataDir,
        AUTH_ENCRYPTION_KEY: newKey.toString('base64'),
        AUTH_ENCRYPTION_KEYS_ACCEPTED: oldKey.toString('base64'),
      }),
    );
    expect(rotating.open(sealedBefore, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
    const resealed = rotating.reseal(sealedBefore, 'user-1');
    expect(resealed).not.toBeNull();
    expect(createSecretBox(newKey).open(resealed as string, 'user-1')).toBe('JBSWY3DPEHPK3PXP');
    expect(() => before.open(resealed as string, 'user-1')).toThrow();
    expect(rotating.reseal(resealed as string, 'user-1')).toBeNull();
    expect(() => rotating.reseal(sealedBefore, 'user-2')).toThrow();
    expect(() => rotating.open(createSecretBox(strangerKey).seal('x', 'c'), 'c')).toThrow();
    expect(rotating.derive('p', 'i')).toBe(createSecretBox(newKey).derive('p', 'i'));
  });

  it('refuses accepted keys of the wrong size or without a sealing key', () => {
    expect(() =>
      loadAuthConfig({
        AUTH_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64'),
        AUTH_ENCRYPTION_KEYS_ACCEPTED: 'c2hvcnQ=',
      }),
    ).toThrow(/AUTH_ENCRYPTION_KEYS_ACCEPTED/);
    expect(() =>
      loadAuthConfig({ AUTH_ENCRYPTION_KEYS_ACCEPTED: Buffer.alloc(32).toString('base64') }),
    ).toThrow(/AUTH_ENCRYPTION_KEYS_ACCEPTED/);
  });
});

describe('file mail transport', () => {
  it('writes one RFC 5322 .eml per mail, in time order, without temp files left', async () => {
    const dir = path.join(dataDir, 'mail');
    const transport = createFileTransport(dir, 'Nova <no-reply@nova.local>');
    await transport.send({
      to: 'a@example.com',
      subject: 'First',
      text: 'one https://x/verify-email?token=abc',
    });
    await transport.send({ to: 'b@example.com', subject: 'Second', text: 'two' });
    const files = (await readdir(dir)).sort();
    expect(files).toHaveLength(2);
    expect(files.every((f) => f.endsWith('.eml'))).toBe(true);
    const first = await readFile(path.join(dir, files[0]!), 'utf8');
    expect(first).toMatch(/^From: Nova <no-reply@nova\.local>$/m);
    expect(first).toMatch(/^To: a@example\.com$/m);
    expect(first).toMatch(/^Subject: First$/m);
    expect(first).toContain('token=abc');
    transport.close();
  });
});
