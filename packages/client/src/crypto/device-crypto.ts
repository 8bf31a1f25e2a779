/**
 * One device's end-to-end state: its identity, pre-keys and a Double
 * Ratchet session per peer device, on a KeyStore. Encrypts to and decrypts
 * from one peer device at a time; the messenger fans out over devices.
 *
 * An envelope's ciphertext (base64) is
 *   version (1) ‖ type (1) ‖ [pre-key part] ‖ ratchet header ‖ AES-GCM box
 * where type 1 (pre-key message) carries the X3DH values — the sender's
 * identity key, its ephemeral key, the signed and one-time pre-key ids —
 * until the peer has answered, and type 2 is a plain ratchet message.
 */

import { KeyedQueue } from '../keyed-queue.js';
import { ByteReader, concat, fromBase64, MalformedMessageError, toBase64, uint32 } from './bytes.js';
import {
  deserializeState,
  initInitiator,
  initResponder,
  ratchetDecrypt,
  ratchetEncrypt,
  serializeState,
} from './double-ratchet.js';
import { EndToEndError } from './errors.js';
import { encodeOneTimePreKey, encodeSignedPreKey, type PublishedBundle, parseBundle } from './key-bundle.js';
import type { KeyPairRecord, KeyStore, PreKeyRecord, SessionRecord } from './key-store.js';
import {
  equalBytes,
  generateDhKeyPair,
  generateSigningKeyPair,
  KEY_BYTES,
  type KeyPair,
} from './primitives.js';
import { x3dhInitiate, x3dhRespond } from './x3dh.js';

const VERSION = 1;
const PRE_KEY_MESSAGE = 1;
const RATCHET_MESSAGE = 2;
/** Sessions kept per peer device (both sides starting at once leaves two; a reinstall another). */
const MAX_SESSIONS_PER_PEER = 4;
/** Signed pre-keys kept: the current one and the one before it, for pre-key messages still in flight. */
const SIGNED_PRE_KEYS_KEPT = 2;

export interface PeerDevice {
  userId: string;
  deviceId: string;
}

export interface PublicKeys {
  identityKey: string;
  signedPreKey: string;
  oneTimePreKeys: string[];
}

export interface Decrypted {
  plaintext: Uint8Array;
  /** The sender device's identity key (base64): compare it out of band to rule out a key substituted by the server. */
  remoteIdentityKey: string;
}

const toRecord = (pair: KeyPair): KeyPairRecord => ({
  publicKey: toBase64(pair.publicKey),
  secretKey: toBase64(pair.secretKey),
});
const fromRecord = (record: KeyPairRecord): KeyPair => ({
  publicKey: fromBase64(record.publicKey),
  secretKey: fromBase64(record.secretKey),
});

/** A store key per peer device; JSON keeps any user id unambiguous. */
export const addressOf = (peer: PeerDevice): string => JSON.stringify([peer.userId, peer.deviceId]);

interface PreKeyPart {
  identityKey: Uint8Array;
  baseKey: Uint8Array;
  signedPreKeyId: number;
  oneTimePreKeyId: number | null;
}

interface ParsedEnvelope {
  preKey: PreKeyPart | null;
  ratchetMessage: Uint8Array;
}

function parseEnvelope(ciphertext: string): ParsedEnvelope {
  try {
    const reader = new ByteReader(fromBase64(ciphertext));
    if (reader.uint8() !== VERSION) throw new EndToEndError('malformed', 'unknown envelope version');
    const type = reader.uint8();
    if (type === RATCHET_MESSAGE) return { preKey: null, ratchetMessage: reader.rest() };
    if (type !== PRE_KEY_MESSAGE) throw new EndToEndError('malformed', 'unknown envelope type');
    const identityKey = reader.take(KEY_BYTES);
    const baseKey = reader.take(KEY_BYTES);
    const signedPreKeyId = reader.uint32();
    const hasOneTimePreKey = reader.uint8() === 1;
    const oneTimePreKeyId = reader.uint32();
    return {
      preKey: {
        identityKey,
        baseKey,
        signedPreKeyId,
        oneTimePreKeyId: hasOneTimePreKey ? oneTimePreKeyId : null,
      },
      ratchetMessage: reader.rest(),
    };
  } catch (error) {
    if (error instanceof MalformedMessageError || error instanceof TypeError) {
      throw new EndToEndError('malformed', `the envelope does not parse: ${error.message}`);
    }
    throw error;
  }
}

/** Runs X25519/Ed25519 math on untrusted keys: a key that is not a curve point is a malformed message. */
function onUntrustedKeys<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof EndToEndError) throw error;
    throw new EndToEndError('malformed', `unusable key: ${(error as Error).message}`);
  }
}

export class DeviceCrypto {
  /** Operations on one peer device's sessions never interleave. */
  private readonly queue = new KeyedQueue();

  private constructor(
    private readonly store: KeyStore,
    private readonly identity: KeyPair,
  ) {}

  /** Opens the device on its store, making its identity key on first use. */
  static async open(store: KeyStore): Promise<DeviceCrypto> {
    let identity = await store.loadIdentity();
    if (!identity) {
      identity = toRecord(generateSigningKeyPair());
      await store.saveIdentity(identity);
    }
    return new DeviceCrypto(store, fromRecord(identity));
  }

  /** This device's identity key (base64), as published. */
  get identityKey(): string {
    return toBase64(this.identity.publicKey);
  }

  /**
   * Makes `oneTimePreKeys` new one-time pre-keys (and a signed pre-key when
   * there is none or `rotateSignedPreKey`), keeps their private halves, and
   * returns the public keys for PUT /keys.
   */
  async prepareKeys(options: { oneTimePreKeys: number; rotateSignedPreKey?: boolean }): Promise<PublicKeys> {
    let signed = await this.store.listPreKeys('signed');
    if (signed.length === 0 || options.rotateSignedPreKey) {
      const [record] = await this.newPreKeys('signed', 1);
      signed = [...signed, record as PreKeyRecord];
      const newestFirst = [...signed].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      for (const old of newestFirst.slice(SIGNED_PRE_KEYS_KEPT))
        await this.store.removePreKey('signed', old.id);
      signed = newestFirst.slice(0, SIGNED_PRE_KEYS_KEPT);
    }
    const current = [...signed].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0] as PreKeyRecord;
    const oneTime = await this.newPreKeys('one-time', options.oneTimePreKeys);
    return {
      identityKey: this.identityKey,
      signedPreKey: encodeSignedPreKey(current.id, fromBase64(current.publicKey), this.identity.secretKey),
      oneTimePreKeys: oneTime.map((record) => encodeOneTimePreKey(record.id, fromBase64(record.publicKey))),
    };
  }

  private async newPreKeys(kind: 'signed' | 'one-time', count: number): Promise<PreKeyRecord[]> {
    const existing = await this.store.listPreKeys(kind);
    const taken = new Set(existing.map((record) => record.id));
    const records: PreKeyRecord[] = [];
    // Strictly after every existing key, so "newest" is never a tie (two rotations within one millisecond).
    const latest = Math.max(0, ...existing.map((record) => Date.parse(record.createdAt)));
    const createdAt = new Date(Math.max(Date.now(), latest + 1)).toISOString();
    while (records.length < count) {
      // Random 31-bit ids: no counter to keep consistent across the store's writers.
      const id = (globalThis.crypto.getRandomValues(new Uint32Array(1))[0] as number) >>> 1;
      if (taken.has(id)) continue;
      taken.add(id);
      records.push({ id, createdAt, ...toRecord(generateDhKeyPair()) });
    }
    await this.store.savePreKeys(kind, records);
    return records;
  }

  async hasSession(peer: PeerDevice): Promise<boolean> {
    return (await this.store.loadSessions(addressOf(peer))).length > 0;
  }

  /** The identity key (base64) of the peer device's active session, if any. */
  async peerIdentityKey(peer: PeerDevice): Promise<string | undefined> {
    return (await this.store.loadSessions(addressOf(peer)))[0]?.remoteIdentityKey;
  }

  /** X3DH from a published bundle (signature checked): the new session becomes the active one. */
  async startSession(peer: PeerDevice, published: PublishedBundle): Promise<void> {
    const bundle = parseBundle(published);
    const agreed = onUntrustedKeys(() => x3dhInitiate(this.identity, bundle));
    const state = onUntrustedKeys(() =>
      initInitiator(agreed.sharedSecret, bundle.signedPreKey.publicKey, agreed.associatedData),
    );
    await this.serialised(peer, async () => {
      const session: SessionRecord = {
        state: serializeState(state),
        remoteIdentityKey: toBase64(bundle.identityKey),
        baseKey: toBase64(agreed.ephemeralPublicKey),
        pendingPreKey: {
          signedPreKeyId: bundle.signedPreKey.id,
          oneTimePreKeyId: bundle.oneTimePreKey?.id ?? null,
        },
      };
      await this.saveSessions(peer, [session, ...(await this.store.loadSessions(addressOf(peer)))]);
    });
  }

  /** Encrypts for one peer device on its active session (startSession first). */
  async encrypt(peer: PeerDevice, plaintext: Uint8Array): Promise<string> {
    return this.serialised(peer, async () => {
      const sessions = await this.store.loadSessions(addressOf(peer));
      const session = sessions[0];
      if (!session) throw new EndToEndError('no_session', `no session with device ${peer.deviceId}`);
      const state = deserializeState(session.state);
      const message = ratchetEncrypt(state, plaintext);
      sessions[0] = { ...session, state: serializeState(state) };
      await this.saveSessions(peer, sessions);
      const pending = session.pendingPreKey;
      if (!pending) return toBase64(concat(Uint8Array.of(VERSION, RATCHET_MESSAGE), message));
      return toBase64(
        concat(
          Uint8Array.of(VERSION, PRE_KEY_MESSAGE),
          this.identity.publicKey,
          fromBase64(session.baseKey),
          uint32(pending.signedPreKeyId),
          Uint8Array.of(pending.oneTimePreKeyId === null ? 0 : 1),
          uint32(pending.oneTimePreKeyId ?? 0),
          message,
        ),
      );
    });
  }

  /**
   * Decrypts an envelope from one peer device. Nothing is stored unless it
   * decrypts: a replayed, tampered or malformed envelope changes no session
   * and consumes no pre-key.
   */
  async decrypt(peer: PeerDevice, ciphertext: string): Promise<Decrypted> {
    const envelope = parseEnvelope(ciphertext);
    return this.serialised(peer, async () => {
      const sessions = await this.store.loadSessions(addressOf(peer));
      const preKey = envelope.preKey;
      const existing = preKey
        ? sessions.filter((session) => equalBytes(fromBase64(session.baseKey), preKey.baseKey))
        : sessions;
      if (preKey && existing.length === 0) return this.acceptPreKeyMessage(peer, sessions, preKey, envelope);
      if (existing.length === 0)
        throw new EndToEndError('no_session', `no session with device ${peer.deviceId}`);

      let firstError: unknown;
      for (const session of existing) {
        const state = deserializeState(session.state);
        try {
          const plaintext = onUntrustedKeys(() => ratchetDecrypt(state, envelope.ratchetMessage));
          // The peer answered on this session: it has it, so the X3DH values need not travel any more.
          const updated: SessionRecord = { ...session, state: serializeState(state), pendingPreKey: null };
          await this.saveSessions(peer, [updated, ...sessions.filter((other) => other !== session)]);
          return { plaintext, remoteIdentityKey: session.remoteIdentityKey };
        } catch (error) {
          firstError ??= error;
        }
      }
      throw firstError;
    });
  }

  private async acceptPreKeyMessage(
    peer: PeerDevice,
    sessions: SessionRecord[],
    preKey: PreKeyPart,
    envelope: ParsedEnvelope,
  ): Promise<Decrypted> {
    const signed = await this.store.loadPreKey('signed', preKey.signedPreKeyId);
    if (!signed) throw new EndToEndError('unknown_pre_key', `no signed pre-key ${preKey.signedPreKeyId}`);
    let oneTime: PreKeyRecord | undefined;
    if (preKey.oneTimePreKeyId !== null) {
      oneTime = await this.store.loadPreKey('one-time', preKey.oneTimePreKeyId);
      // Used already (a replayed first message) or never ours: refused.
      if (!oneTime)
        throw new EndToEndError('unknown_pre_key', `no one-time pre-key ${preKey.oneTimePreKeyId}`);
    }
    const signedPair = fromRecord(signed);
    // A fresh state: if this message does not decrypt, it is simply dropped.
    const { state, plaintext } = onUntrustedKeys(() => {
      const agreed = x3dhRespond({
        identity: this.identity,
        signedPreKey: signedPair,
        oneTimePreKey: oneTime ? fromRecord(oneTime) : null,
        initiatorIdentityKey: preKey.identityKey,
        initiatorEphemeralKey: preKey.baseKey,
      });
      const fresh = initResponder(agreed.sharedSecret, signedPair, agreed.associatedData);
      return { state: fresh, plaintext: ratchetDecrypt(fresh, envelope.ratchetMessage) };
    });
    const session: SessionRecord = {
      state: serializeState(state),
      remoteIdentityKey: toBase64(preKey.identityKey),
      baseKey: toBase64(preKey.baseKey),
      pendingPreKey: null,
    };
    await this.saveSessions(peer, [session, ...sessions]);
    // Only now: a one-time pre-key is spent by a message that decrypted with it, never by a forgery.
    if (oneTime) await this.store.removePreKey('one-time', oneTime.id);
    return { plaintext, remoteIdentityKey: session.remoteIdentityKey };
  }

  private saveSessions(peer: PeerDevice, sessions: SessionRecord[]): Promise<void> {
    return this.store.saveSessions(addressOf(peer), sessions.slice(0, MAX_SESSIONS_PER_PEER));
  }

  private serialised<T>(peer: PeerDevice, run: () => Promise<T>): Promise<T> {
    return this.queue.run(addressOf(peer), run);
  }
}
