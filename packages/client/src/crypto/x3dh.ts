/**
 * X3DH key agreement (Signal's specification, revision 1) on X25519 with
 * HKDF-SHA-256. The identity key is Ed25519 (it signs the signed pre-key);
 * its X25519 form (the birational map) takes part in DH1/DH2. The
 * one-time pre-key's DH4 is used when the bundle had one left.
 */
import { concat, utf8 } from './bytes.js';
import type { PreKeyBundle } from './key-bundle.js';
import {
  dh,
  generateDhKeyPair,
  hkdf,
  identityDhPublicKey,
  identityDhSecretKey,
  KEY_BYTES,
  type KeyPair,
} from './primitives.js';

const X3DH_INFO = utf8('nova/x3dh/v1');
/** 32 0xFF bytes before the DH outputs (the specification's F, for X25519). */
const F = new Uint8Array(KEY_BYTES).fill(0xff);
const ZERO_SALT = new Uint8Array(KEY_BYTES);

export interface X3dhResult {
  sharedSecret: Uint8Array;
  /** IK_initiator ‖ IK_responder (the Ed25519 identity keys): bound to every message of the session. */
  associatedData: Uint8Array;
}

export interface InitiatorX3dh extends X3dhResult {
  /** The initiator's ephemeral public key (the session's base key), sent in the pre-key message. */
  ephemeralPublicKey: Uint8Array;
}

function deriveSecret(dhOutputs: Uint8Array[]): Uint8Array {
  return hkdf(concat(F, ...dhOutputs), ZERO_SALT, X3DH_INFO, KEY_BYTES);
}

/** Alice's side: from her identity and Bob's checked bundle (parseBundle verified the signature). */
export function x3dhInitiate(identity: KeyPair, bundle: PreKeyBundle): InitiatorX3dh {
  const ephemeral = generateDhKeyPair();
  const outputs = [
    dh(identityDhSecretKey(identity.secretKey), bundle.signedPreKey.publicKey),
    dh(ephemeral.secretKey, identityDhPublicKey(bundle.identityKey)),
    dh(ephemeral.secretKey, bundle.signedPreKey.publicKey),
  ];
  if (bundle.oneTimePreKey) outputs.push(dh(ephemeral.secretKey, bundle.oneTimePreKey.publicKey));
  return {
    sharedSecret: deriveSecret(outputs),
    associatedData: concat(identity.publicKey, bundle.identityKey),
    ephemeralPublicKey: ephemeral.publicKey,
  };
}

/** Bob's side, from the pre-key message's keys and his own private pre-keys. */
export function x3dhRespond(input: {
  identity: KeyPair;
  signedPreKey: KeyPair;
  oneTimePreKey: KeyPair | null;
  initiatorIdentityKey: Uint8Array;
  initiatorEphemeralKey: Uint8Array;
}): X3dhResult {
  const outputs = [
    dh(input.signedPreKey.secretKey, identityDhPublicKey(input.initiatorIdentityKey)),
    dh(identityDhSecretKey(input.identity.secretKey), input.initiatorEphemeralKey),
    dh(input.signedPreKey.secretKey, input.initiatorEphemeralKey),
  ];
  if (input.oneTimePreKey) outputs.push(dh(input.oneTimePreKey.secretKey, input.initiatorEphemeralKey));
  return {
    sharedSecret: deriveSecret(outputs),
    associatedData: concat(input.initiatorIdentityKey, input.identity.publicKey),
  };
}
