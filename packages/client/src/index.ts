/**
 * @nova/client — Nova's client SDK. Runs in Node (≥ 20) and in browsers:
 * the cryptography is @noble's, randomness is Web Crypto's, and nothing
 * here imports a Node module.
 */
export { fromBase64, fromUtf8, toBase64, utf8 } from './crypto/bytes.js';
export {
  addressOf,
  type Decrypted,
  DeviceCrypto,
  type PeerDevice,
  type PublicKeys,
} from './crypto/device-crypto.js';
export { MAX_SKIP, MAX_STORED_SKIPPED } from './crypto/double-ratchet.js';
export { EndToEndError, type EndToEndErrorCode } from './crypto/errors.js';
export type { PublishedBundle } from './crypto/key-bundle.js';
export {
  type KeyPairRecord,
  type KeyStore,
  MemoryKeyStore,
  type PreKeyKind,
  type PreKeyRecord,
  type SessionRecord,
} from './crypto/key-store.js';
export {
  type IncomingEnvelope,
  type MessageMeta,
  Messenger,
  type MessengerOptions,
  type ReceivedMessage,
  type Undecryptable,
} from './messenger/messenger.js';
export { MemorySyncPositions, type SyncPositions } from './messenger/sync-positions.js';
export { NovaApiError, type Problem } from './rest/errors.js';
export { NovaClient, type NovaClientOptions, type paths, unwrap } from './rest/nova-client.js';
export type { SessionTokens } from './rest/session-tokens.js';
export {
  NovaSocket,
  type NovaSocketOptions,
  type SocketFrame,
  type SocketState,
  type WebSocketFactory,
  type WebSocketLike,
} from './socket/nova-socket.js';
