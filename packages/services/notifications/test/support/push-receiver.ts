import { createDecipheriv, createECDH, type ECDH, hkdfSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importJWK, type JWTPayload, jwtVerify } from 'jose';

/** What a browser holds for one push subscription: its P-256 key pair and auth secret (RFC 8291). */
export interface Browser {
  name: string;
  ecdh: ECDH;
  auth: Buffer;
  /** What `PushSubscription.toJSON()` gives the application. */
  subscription: { endpoint: string; keys: { p256dh: string; auth: string } };
}

export interface ReceivedPush {
  browser: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

/** How the receiver answers a browser's endpoint: statuses in turn (the last repeats), after a delay. */
export interface Behaviour {
  statuses: number[];
  delayMs?: number;
}

/**
 * A push service on 127.0.0.1 for tests: one endpoint per "browser", each with
 * a real key pair, answering as told. It only records; the test decrypts and
 * verifies with the browser's keys, as a browser and a push service would.
 */
export class PushReceiver {
  readonly received: ReceivedPush[] = [];
  readonly #behaviour = new Map<string, Behaviour>();
  readonly #served = new Map<string, number>();
  #server: Server | undefined;
  origin = '';

  async start(): Promise<void> {
    this.#server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const browser = decodeURIComponent((request.url ?? '').replace(/^\/push\//, ''));
        this.received.push({
          browser,
          headers: request.headers,
          body: Buffer.concat(chunks),
          at: Date.now(),
        });
        const behaviour = this.#behaviour.get(browser) ?? { statuses: [201] };
        const served = this.#served.get(browser) ?? 0;
        this.#served.set(browser, served + 1);
        const status = behaviour.statuses[Math.min(served, behaviour.statuses.length - 1)] ?? 201;
        setTimeout(() => {
          response.writeHead(status, status === 429 ? { 'retry-after': '1' } : {});
          response.end();
        }, behaviour.delayMs ?? 0);
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** A new browser profile with its own keys and endpoint. */
  browser(name: string, behaviour: Behaviour = { statuses: [201] }): Browser {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = randomBytes(16);
    this.#behaviour.set(name, behaviour);
    return {
      name,
      ecdh,
      auth,
      subscription: {
        endpoint: `${this.origin}/push/${encodeURIComponent(name)}`,
        keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
      },
    };
  }

  pushesTo(name: string): ReceivedPush[] {
    return this.received.filter((p) => p.browser === name);
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }
}

/**
 * Decrypts an aes128gcm Web Push body (RFC 8188 + RFC 8291) with the
 * browser's private key and auth secret — written from the RFCs, not with
 * the sender's library, so a wrong encryption cannot check itself.
 */
export function decryptPush(body: Buffer, browser: Browser): unknown {
  const salt = body.subarray(0, 16);
  const recordSize = body.readUInt32BE(16);
  const keyIdLength = body[20] ?? 0;
  const senderPublic = body.subarray(21, 21 + keyIdLength);
  const record = body.subarray(21 + keyIdLength);
  if (record.length > recordSize) throw new Error('more than one record');
  const hkdf = (ikm: Buffer, hkdfSalt: Buffer, info: Buffer, length: number) =>
    Buffer.from(hkdfSync('sha256', ikm, hkdfSalt, info, length));
  const shared = browser.ecdh.computeSecret(senderPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), browser.ecdh.getPublicKey(), senderPublic]);
  const ikm = hkdf(shared, browser.auth, keyInfo, 32);
  const cek = hkdf(ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const nonce = hkdf(ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  const padded = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (padded[end] !== 0x02) throw new Error('the last record lacks its 0x02 delimiter');
  return JSON.parse(padded.subarray(0, end).toString('utf8'));
}

/**
 * Checks the VAPID header as a push service does (RFC 8292): `vapid t=<JWT>,
 * k=<key>`, the key is the server's public key, the ES256 signature verifies
 * with it, `aud` is the endpoint's origin, `exp` within 24 h, `sub` a contact.
 */
export async function verifyVapid(
  headers: IncomingHttpHeaders,
  expected: { publicKey: string; audience: string },
): Promise<JWTPayload> {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(String(headers.authorization ?? ''));
  if (!match?.[1] || !match[2]) throw new Error(`no VAPID authorization: ${headers.authorization}`);
  if (match[2] !== expected.publicKey) throw new Error('k is not the server’s VAPID key');
  const point = Buffer.from(match[2], 'base64url');
  const key = await importJWK(
    {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33, 65).toString('base64url'),
    },
    'ES256',
  );
  const { payload } = await jwtVerify(match[1], key, { algorithms: ['ES256'], audience: expected.audience });
  const now = Math.floor(Date.now() / 1000);
  if (!payload.exp || payload.exp <= now || payload.exp > now + 24 * 3600)
    throw new Error('exp out of range');
  if (!/^(mailto:|https:)/.test(String(payload.sub))) throw new Error('sub is not a contact');
  return payload;
}
