/**
 * How a device's public keys are written into the key directory's base64
 * strings (PUT /keys, GET /users/{id}/keys). The server stores them and
 * never interprets them; only clients parse them.
 *
 * - identityKey: the Ed25519 public key (32 bytes).
 * - signedPreKey: id (uint32 BE) ‖ X25519 public key ‖ Ed25519 signature of
 *   `"nova/signed-pre-key" ‖ id ‖ public key` by the identity key.
 * - oneTimePreKey: id (uint32 BE) ‖ X25519 public key.
 */
import { ByteReader, concat, fromBase64, MalformedMessageError, toBase64, uint32, utf8 } from './bytes.js';
import { EndToEndError } from './errors.js';
import { KEY_BYTES, SIGNATURE_BYTES, sign, verify } from './primitives.js';

const SIGNED_PRE_KEY_CONTEXT = utf8('nova/signed-pre-key');

export interface PublicPreKey {
  id: number;
  publicKey: Uint8Array;
}

export interface SignedPublicPreKey extends PublicPreKey {
  signature: Uint8Array;
}

/** One device's bundle as the key directory returns it, parsed and its signature checked. */
export interface PreKeyBundle {
  deviceId: string;
  identityKey: Uint8Array;
  signedPreKey: SignedPublicPreKey;
  oneTimePreKey: PublicPreKey | null;
}

/** The key directory's JSON shape of one bundle. */
export interface PublishedBundle {
  deviceId: string;
  identityKey: string;
  signedPreKey: string;
  oneTimePreKey: string | null;
}

function signedPreKeyMessage(id: number, publicKey: Uint8Array): Uint8Array {
  return concat(SIGNED_PRE_KEY_CONTEXT, uint32(id), publicKey);
}

export function encodeSignedPreKey(id: number, publicKey: Uint8Array, identitySecretKey: Uint8Array): string {
  const signature = sign(identitySecretKey, signedPreKeyMessage(id, publicKey));
  return toBase64(concat(uint32(id), publicKey, signature));
}

export function encodeOneTimePreKey(id: number, publicKey: Uint8Array): string {
  return toBase64(concat(uint32(id), publicKey));
}

function parse<T>(what: string, text: string, read: (reader: ByteReader) => T, length: number): T {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(text);
  } catch {
    throw new EndToEndError('malformed', `${what} is not base64`);
  }
  if (bytes.length !== length)
    throw new EndToEndError('malformed', `${what} has ${bytes.length} bytes, not ${length}`);
  try {
    return read(new ByteReader(bytes));
  } catch (error) {
    if (error instanceof MalformedMessageError)
      throw new EndToEndError('malformed', `${what}: ${error.message}`);
    throw error;
  }
}

/** Parses a published bundle and checks the signed pre-key's signature against the identity key. */
export function parseBundle(published: PublishedBundle): PreKeyBundle {
  const identityKey = parse('identityKey', published.identityKey, (r) => r.take(KEY_BYTES), KEY_BYTES);
  const signedPreKey = parse(
    'signedPreKey',
    published.signedPreKey,
    (r) => ({ id: r.uint32(), publicKey: r.take(KEY_BYTES), signature: r.take(SIGNATURE_BYTES) }),
    4 + KEY_BYTES + SIGNATURE_BYTES,
  );
  if (
    !verify(identityKey, signedPreKeyMessage(signedPreKey.id, signedPreKey.publicKey), signedPreKey.signature)
  ) {
    throw new EndToEndError(
      'bad_signature',
      `the signed pre-key of device ${published.deviceId} is not signed by its identity key`,
    );
  }
  const oneTimePreKey =
    published.oneTimePreKey === null
      ? null
      : parse(
          'oneTimePreKey',
          published.oneTimePreKey,
          (r) => ({ id: r.uint32(), publicKey: r.take(KEY_BYTES) }),
          4 + KEY_BYTES,
        );
  return { deviceId: published.deviceId, identityKey, signedPreKey, oneTimePreKey };
}
