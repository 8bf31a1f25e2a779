/**
 * Why the end-to-end layer refused a message or a key bundle. One class
 * with a stable code, so callers branch on `code`, never on messages.
 */
export type EndToEndErrorCode =
  /** The ciphertext or key does not parse. */
  | 'malformed'
  /** The AEAD tag did not verify: tampered ciphertext or header, or the wrong session. */
  | 'authentication_failed'
  /** This message's key was already used (a replay) or was never kept. */
  | 'replayed'
  /** The header asks to skip more message keys than the bound allows. */
  | 'too_many_skipped'
  /** A normal message arrived from a device this device has no session with. */
  | 'no_session'
  /** A pre-key message names a signed or one-time pre-key this device does not hold (used, or never made). */
  | 'unknown_pre_key'
  /** A published signed pre-key's signature does not verify against the identity key. */
  | 'bad_signature'
  /** The decrypted message was addressed to another conversation than the one it arrived in. */
  | 'wrong_conversation';

export class EndToEndError extends Error {
  override readonly name = 'EndToEndError';
  constructor(
    readonly code: EndToEndErrorCode,
    message: string,
  ) {
    super(message);
  }
}
