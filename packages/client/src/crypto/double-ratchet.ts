/**
 * The Double Ratchet of one device pair (Signal's specification, revision 4):
 * a DH ratchet on X25519, symmetric-key chains (HMAC-SHA-256), root-key
 * derivation with HKDF-SHA-256, skipped-message keys kept up to a bound,
 * and AES-256-GCM with the session's associated data (both identity keys)
 * plus the header. A state is a plain object: callers decrypt on a copy
 * (`cloneState`) and keep it only when decryption succeeded, so a
 * tampered, replayed or malformed message changes nothing.
 */
import { ByteReader, concat, fromBase64, MalformedMessageError, toBase64, uint32, utf8 } from './bytes.js';
import { EndToEndError } from './errors.js';
import {
  AEAD_NONCE_BYTES,
  aeadOpen,
  aeadSeal,
  dh,
  equalBytes,
  generateDhKeyPair,
  hkdf,
  hmacSha256,
  KEY_BYTES,
  type KeyPair,
} from './primitives.js';

/** Message keys one header may make the receiver skip (a gap larger than this is refused). */
export const MAX_SKIP = 1000;
/** Skipped-message keys one session keeps in all; the oldest are dropped beyond it. */
export const MAX_STORED_SKIPPED = 2000;

export const HEADER_BYTES = KEY_BYTES + 4 + 4;

const ROOT_INFO = utf8('nova/ratchet/root');
const MESSAGE_KEY_INFO = utf8('nova/ratchet/message');
const ZERO_SALT = new Uint8Array(KEY_BYTES);
const CHAIN_MESSAGE = Uint8Array.of(0x01);
const CHAIN_NEXT = Uint8Array.of(0x02);

export interface RatchetHeader {
  /** The sender's current ratchet public key. */
  dh: Uint8Array;
  /** Messages in the sender's previous sending chain. */
  pn: number;
  /** This message's number in the current sending chain. */
  n: number;
}

export interface RatchetState {
  rootKey: Uint8Array;
  dhSelf: KeyPair;
  dhRemote: Uint8Array | null;
  sendChainKey: Uint8Array | null;
  receiveChainKey: Uint8Array | null;
  sent: number;
  received: number;
  previousSent: number;
  /** Skipped message keys by `base64(dh):n`, oldest first (Map keeps insertion order). */
  skipped: Map<string, Uint8Array>;
  /** Associated data bound to every message: the two identity keys from X3DH. */
  associatedData: Uint8Array;
}

function kdfRoot(rootKey: Uint8Array, dhOutput: Uint8Array): [Uint8Array, Uint8Array] {
  const out = hkdf(dhOutput, rootKey, ROOT_INFO, 2 * KEY_BYTES);
  return [out.slice(0, KEY_BYTES), out.slice(KEY_BYTES)];
}

function kdfChain(chainKey: Uint8Array): [next: Uint8Array, messageKey: Uint8Array] {
  return [hmacSha256(chainKey, CHAIN_NEXT), hmacSha256(chainKey, CHAIN_MESSAGE)];
}

/** AES-256-GCM key and nonce from a one-use message key (a fixed nonce is safe: the key is never reused). */
function messageCipherKeys(messageKey: Uint8Array): { key: Uint8Array; nonce: Uint8Array } {
  const out = hkdf(messageKey, ZERO_SALT, MESSAGE_KEY_INFO, KEY_BYTES + AEAD_NONCE_BYTES);
  return { key: out.slice(0, KEY_BYTES), nonce: out.slice(KEY_BYTES) };
}

export function encodeHeader(header: RatchetHeader): Uint8Array {
  return concat(header.dh, uint32(header.pn), uint32(header.n));
}

export function decodeHeader(reader: ByteReader): RatchetHeader {
  return { dh: reader.take(KEY_BYTES), pn: reader.uint32(), n: reader.uint32() };
}

/** The initiator (Alice) after X3DH: her first sending chain starts at once. */
export function initInitiator(
  sharedSecret: Uint8Array,
  remoteRatchetKey: Uint8Array,
  associatedData: Uint8Array,
): RatchetState {
  const dhSelf = generateDhKeyPair();
  const [rootKey, sendChainKey] = kdfRoot(sharedSecret, dh(dhSelf.secretKey, remoteRatchetKey));
  return {
    rootKey,
    dhSelf,
    dhRemote: remoteRatchetKey,
    sendChainKey,
    receiveChainKey: null,
    sent: 0,
    received: 0,
    previousSent: 0,
    skipped: new Map(),
    associatedData,
  };
}

/** The responder (Bob) after X3DH: his signed pre-key is his first ratchet key pair. */
export function initResponder(
  sharedSecret: Uint8Array,
  signedPreKey: KeyPair,
  associatedData: Uint8Array,
): RatchetState {
  return {
    rootKey: sharedSecret,
    dhSelf: signedPreKey,
    dhRemote: null,
    sendChainKey: null,
    receiveChainKey: null,
    sent: 0,
    received: 0,
    previousSent: 0,
    skipped: new Map(),
    associatedData,
  };
}

/** Encrypts one message: `header ‖ AES-GCM(plaintext)`; advances the sending chain. */
export function ratchetEncrypt(state: RatchetState, plaintext: Uint8Array): Uint8Array {
  if (!state.sendChainKey) {
    throw new EndToEndError('no_session', 'this session cannot send before it has received a message');
  }
  const [nextChainKey, messageKey] = kdfChain(state.sendChainKey);
  const header = encodeHeader({ dh: state.dhSelf.publicKey, pn: state.previousSent, n: state.sent });
  state.sendChainKey = nextChainKey;
  state.sent += 1;
  const { key, nonce } = messageCipherKeys(messageKey);
  return concat(header, aeadSeal(key, nonce, plaintext, concat(state.associatedData, header)));
}

/**
 * Decrypts one `header ‖ ciphertext` message, mutating `state`. Callers pass
 * a copy and keep it only on success (the specification's "discard changes
 * on failure").
 */
export function ratchetDecrypt(state: RatchetState, message: Uint8Array): Uint8Array {
  let header: RatchetHeader;
  let sealed: Uint8Array;
  let headerBytes: Uint8Array;
  try {
    const reader = new ByteReader(message);
    header = decodeHeader(reader);
    headerBytes = message.slice(0, HEADER_BYTES);
    sealed = reader.rest();
  } catch (error) {
    if (error instanceof MalformedMessageError) throw new EndToEndError('malformed', error.message);
    throw error;
  }
  const ad = concat(state.associatedData, headerBytes);

  const skippedId = skippedKeyId(header.dh, header.n);
  const skippedKey = state.skipped.get(skippedId);
  if (skippedKey) {
    state.skipped.delete(skippedId);
    return open(skippedKey, sealed, ad);
  }

  const sameChain = state.dhRemote !== null && equalBytes(header.dh, state.dhRemote);
  if (sameChain && header.n < state.received) {
    throw new EndToEndError('replayed', `message ${header.n} of this chain was already received`);
  }
  if (!sameChain) {
    skipMessageKeys(state, header.pn);
    dhRatchet(state, header);
  }
  skipMessageKeys(state, header.n);
  const [nextChainKey, messageKey] = kdfChain(state.receiveChainKey as Uint8Array);
  state.receiveChainKey = nextChainKey;
  state.received += 1;
  return open(messageKey, sealed, ad);
}

function open(messageKey: Uint8Array, sealed: Uint8Array, ad: Uint8Array): Uint8Array {
  const { key, nonce } = messageCipherKeys(messageKey);
  try {
    return aeadOpen(key, nonce, sealed, ad);
  } catch {
    throw new EndToEndError('authentication_failed', 'the message does not authenticate');
  }
}

function skippedKeyId(ratchetKey: Uint8Array, n: number): string {
  return `${toBase64(ratchetKey)}:${n}`;
}

function skipMessageKeys(state: RatchetState, until: number): void {
  if (until - state.received > MAX_SKIP) {
    throw new EndToEndError(
      'too_many_skipped',
      `the message skips ${until - state.received} keys (at most ${MAX_SKIP})`,
    );
  }
  if (!state.receiveChainKey || !state.dhRemote) return;
  while (state.received < until) {
    const [nextChainKey, messageKey] = kdfChain(state.receiveChainKey);
    state.skipped.set(skippedKeyId(state.dhRemote, state.received), messageKey);
    state.receiveChainKey = nextChainKey;
    state.received += 1;
  }
  // Bounded storage: the oldest skipped keys go first (their messages are the least likely to come).
  for (const id of state.skipped.keys()) {
    if (state.skipped.size <= MAX_STORED_SKIPPED) break;
    state.skipped.delete(id);
  }
}

function dhRatchet(state: RatchetState, header: RatchetHeader): void {
  state.previousSent = state.sent;
  state.sent = 0;
  state.received = 0;
  state.dhRemote = header.dh;
  let receiveChainKey: Uint8Array;
  [state.rootKey, receiveChainKey] = kdfRoot(state.rootKey, dh(state.dhSelf.secretKey, state.dhRemote));
  state.receiveChainKey = receiveChainKey;
  state.dhSelf = generateDhKeyPair();
  let sendChainKey: Uint8Array;
  [state.rootKey, sendChainKey] = kdfRoot(state.rootKey, dh(state.dhSelf.secretKey, state.dhRemote));
  state.sendChainKey = sendChainKey;
}

/** A deep copy to decrypt on (see ratchetDecrypt). */
export function cloneState(state: RatchetState): RatchetState {
  return deserializeState(serializeState(state));
}

/** The state as JSON-safe values (base64 strings), for any key store. */
export interface SerializedRatchetState {
  rootKey: string;
  dhSelf: { publicKey: string; secretKey: string };
  dhRemote: string | null;
  sendChainKey: string | null;
  receiveChainKey: string | null;
  sent: number;
  received: number;
  previousSent: number;
  skipped: [string, string][];
  associatedData: string;
}

const b64OrNull = (bytes: Uint8Array | null) => (bytes ? toBase64(bytes) : null);
const bytesOrNull = (text: string | null) => (text === null ? null : fromBase64(text));

export function serializeState(state: RatchetState): SerializedRatchetState {
  return {
    rootKey: toBase64(state.rootKey),
    dhSelf: { publicKey: toBase64(state.dhSelf.publicKey), secretKey: toBase64(state.dhSelf.secretKey) },
    dhRemote: b64OrNull(state.dhRemote),
    sendChainKey: b64OrNull(state.sendChainKey),
    receiveChainKey: b64OrNull(state.receiveChainKey),
    sent: state.sent,
    received: state.received,
    previousSent: state.previousSent,
    skipped: [...state.skipped].map(([id, key]) => [id, toBase64(key)]),
    associatedData: toBase64(state.associatedData),
  };
}

export function deserializeState(saved: SerializedRatchetState): RatchetState {
  return {
    rootKey: fromBase64(saved.rootKey),
    dhSelf: { publicKey: fromBase64(saved.dhSelf.publicKey), secretKey: fromBase64(saved.dhSelf.secretKey) },
    dhRemote: bytesOrNull(saved.dhRemote),
    sendChainKey: bytesOrNull(saved.sendChainKey),
    receiveChainKey: bytesOrNull(saved.receiveChainKey),
    sent: saved.sent,
    received: saved.received,
    previousSent: saved.previousSent,
    skipped: new Map(saved.skipped.map(([id, key]) => [id, fromBase64(key)])),
    associatedData: fromBase64(saved.associatedData),
  };
}
