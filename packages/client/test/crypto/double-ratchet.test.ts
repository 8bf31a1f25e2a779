import { describe, expect, it } from 'vitest';
import { fromBase64, fromUtf8, toBase64, utf8 } from '../../src/crypto/bytes.js';
import { DeviceCrypto, type PeerDevice } from '../../src/crypto/device-crypto.js';
import { MAX_SKIP } from '../../src/crypto/double-ratchet.js';
import { EndToEndError } from '../../src/crypto/errors.js';
import type { PublishedBundle } from '../../src/crypto/key-bundle.js';
import { MemoryKeyStore } from '../../src/crypto/key-store.js';

const ALICE: PeerDevice = { userId: 'alice', deviceId: 'phone' };
const BOB: PeerDevice = { userId: 'bob', deviceId: 'laptop' };

interface Device {
  crypto: DeviceCrypto;
  store: MemoryKeyStore;
  /** One bundle as GET /users/{id}/keys would hand it out (claiming a one-time pre-key while any is left). */
  bundle(): PublishedBundle;
}

async function device(address: PeerDevice, oneTimePreKeys = 3): Promise<Device> {
  const store = new MemoryKeyStore();
  const crypto = await DeviceCrypto.open(store);
  const keys = await crypto.prepareKeys({ oneTimePreKeys });
  const pool = [...keys.oneTimePreKeys];
  return {
    crypto,
    store,
    bundle: () => ({
      deviceId: address.deviceId,
      identityKey: keys.identityKey,
      signedPreKey: keys.signedPreKey,
      oneTimePreKey: pool.shift() ?? null,
    }),
  };
}

/** Alice has a session with Bob from his bundle. */
async function pair(oneTimePreKeys = 3) {
  const alice = await device(ALICE);
  const bob = await device(BOB, oneTimePreKeys);
  await alice.crypto.startSession(BOB, bob.bundle());
  const aliceSends = (text: string) => alice.crypto.encrypt(BOB, utf8(text));
  const bobSends = (text: string) => bob.crypto.encrypt(ALICE, utf8(text));
  const bobReads = async (envelope: string) =>
    fromUtf8((await bob.crypto.decrypt(ALICE, envelope)).plaintext);
  const aliceReads = async (envelope: string) =>
    fromUtf8((await alice.crypto.decrypt(BOB, envelope)).plaintext);
  return { alice, bob, aliceSends, bobSends, bobReads, aliceReads };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EndToEndError) return error.code;
    throw error;
  }
  throw new Error('expected a refusal, but the message was accepted');
}

/** Flips one bit of the decoded envelope at `offset` (negative: from the end). */
function tamper(envelope: string, offset: number): string {
  const bytes = fromBase64(envelope);
  const at = offset < 0 ? bytes.length + offset : offset;
  bytes[at] = (bytes[at] as number) ^ 0x01;
  return toBase64(bytes);
}

describe('Double Ratchet between two devices (X3DH start)', () => {
  it('delivers in order in both directions across several DH ratchet turns', async () => {
    const { aliceSends, bobSends, aliceReads, bobReads } = await pair();
    for (let turn = 0; turn < 4; turn++) {
      expect(await bobReads(await aliceSends(`a${turn}.0`))).toBe(`a${turn}.0`);
      expect(await bobReads(await aliceSends(`a${turn}.1`))).toBe(`a${turn}.1`);
      expect(await aliceReads(await bobSends(`b${turn}`))).toBe(`b${turn}`);
    }
  });

  it('sends pre-key messages until the peer answers, then plain ratchet messages', async () => {
    const { aliceSends, bobSends, aliceReads, bobReads } = await pair();
    const first = await aliceSends('one');
    const second = await aliceSends('two');
    expect(fromBase64(first)[1]).toBe(1);
    expect(fromBase64(second)[1]).toBe(1);
    expect(await bobReads(second)).toBe('two');
    expect(await bobReads(first)).toBe('one');
    expect(await aliceReads(await bobSends('ack'))).toBe('ack');
    expect(fromBase64(await aliceSends('three'))[1]).toBe(2);
  });

  it('decrypts out-of-order messages with skipped-message keys, also across a DH ratchet step', async () => {
    const { aliceSends, bobSends, aliceReads, bobReads } = await pair();
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(await aliceSends(`m${i}`));
    for (const i of [3, 1, 4, 0, 2]) expect(await bobReads(sent[i] as string)).toBe(`m${i}`);

    const late = await aliceSends('late, from the old chain');
    expect(await aliceReads(await bobSends('reply'))).toBe('reply');
    const next = await aliceSends('new chain'); // Alice's DH ratchet stepped after the reply
    expect(await bobReads(next)).toBe('new chain');
    expect(await bobReads(late)).toBe('late, from the old chain');
  });

  it(`refuses a header that skips more than ${MAX_SKIP} keys, and the session is unharmed`, async () => {
    const { aliceSends, bobSends, aliceReads, bobReads } = await pair();
    expect(await bobReads(await aliceSends('hello'))).toBe('hello');
    const skippedOver = [];
    for (let i = 0; i <= MAX_SKIP; i++) skippedOver.push(await aliceSends(`filler ${i}`));
    const tooFar = await aliceSends('too far');
    expect(await refusal(bobReads(tooFar))).toBe('too_many_skipped');
    // Nothing was stored by the refused message: the chain still starts where it was.
    expect(await bobReads(skippedOver[0] as string)).toBe('filler 0');
    expect(await aliceReads(await bobSends('still here'))).toBe('still here');
  });

  it('refuses a too-far first message without spending the one-time pre-key', async () => {
    const { aliceSends, bobReads, bob } = await pair();
    const first = await aliceSends('first');
    for (let i = 0; i < MAX_SKIP; i++) await aliceSends('filler');
    const tooFar = await aliceSends('too far');
    const poolBefore = (await bob.store.listPreKeys('one-time')).length;
    expect(await refusal(bobReads(tooFar))).toBe('too_many_skipped');
    expect((await bob.store.listPreKeys('one-time')).length).toBe(poolBefore);
    expect(await bobReads(first)).toBe('first');
    expect((await bob.store.listPreKeys('one-time')).length).toBe(poolBefore - 1);
  });

  it('refuses a replayed ciphertext: in order, out of order, and the X3DH first message', async () => {
    const { aliceSends, bobSends, aliceReads, bobReads } = await pair();
    const first = await aliceSends('first');
    expect(await bobReads(first)).toBe('first');
    expect(await refusal(bobReads(first))).toBe('replayed');

    const m1 = await aliceSends('m1');
    const m2 = await aliceSends('m2');
    expect(await bobReads(m2)).toBe('m2');
    expect(await bobReads(m1)).toBe('m1'); // from a skipped key, which is then deleted
    expect(await refusal(bobReads(m1))).toBe('replayed');
    expect(await refusal(bobReads(m2))).toBe('replayed');

    expect(await aliceReads(await bobSends('reply'))).toBe('reply');
    const reply2 = await bobSends('reply 2');
    expect(await aliceReads(reply2)).toBe('reply 2');
    expect(await refusal(aliceReads(reply2))).toBe('replayed');
  });

  it('refuses a first message replayed to a device that lost the session: its one-time pre-key is spent', async () => {
    const { aliceSends, bobReads, bob } = await pair();
    const first = await aliceSends('first');
    expect(await bobReads(first)).toBe('first');
    await bob.store.saveSessions(JSON.stringify([ALICE.userId, ALICE.deviceId]), []);
    expect(await refusal(bobReads(first))).toBe('unknown_pre_key');
  });

  it('refuses tampered ciphertext and tampered headers; the genuine message still decrypts afterwards', async () => {
    const { aliceSends, bobReads, bobSends, aliceReads } = await pair();
    expect(await bobReads(await aliceSends('warm-up'))).toBe('warm-up');
    expect(await aliceReads(await bobSends('plain ratchet messages from now on'))).toBeTruthy();
    const genuine = await aliceSends('genuine');
    expect(fromBase64(genuine)[1]).toBe(2);
    // Layout: version, type, then header (ratchet key 32, pn 4, n 4), then the AES-GCM box.
    expect(await refusal(bobReads(tamper(genuine, -1)))).toBe('authentication_failed'); // tag
    expect(await refusal(bobReads(tamper(genuine, 2 + 40 + 1)))).toBe('authentication_failed'); // body
    expect(await refusal(bobReads(tamper(genuine, 2 + 5)))).toBe('authentication_failed'); // ratchet key
    expect(await refusal(bobReads(tamper(genuine, 2 + 32 + 3)))).toBe('authentication_failed'); // pn
    expect(await refusal(bobReads(tamper(genuine, 2 + 36 + 3)))).toBe('authentication_failed'); // n
    expect(await refusal(bobReads(genuine.slice(0, 8)))).toBe('malformed');
    expect(await refusal(bobReads('not base64 at all!'))).toBe('malformed');
    expect(await bobReads(genuine)).toBe('genuine');
  });

  it('refuses a first message whose X3DH part was tampered with, and stores nothing', async () => {
    const { aliceSends, bobReads, bob } = await pair();
    const first = await aliceSends('first');
    // A flipped bit in a key either leaves a valid point (then the AEAD fails) or not (malformed).
    expect(await refusal(bobReads(tamper(first, 2 + 3)))).toMatch(/^(authentication_failed|malformed)$/); // identity
    expect(await refusal(bobReads(tamper(first, 2 + 32 + 3)))).toMatch(/^(authentication_failed|malformed)$/); // base key
    expect(await refusal(bobReads(tamper(first, 2 + 64 + 3)))).toBe('unknown_pre_key'); // signed pre-key id
    expect(await bob.crypto.hasSession(ALICE)).toBe(false);
    expect(await bobReads(first)).toBe('first');
  });

  it('keeps working when both sides send before either receives (one session)', async () => {
    const { aliceSends, bobSends, aliceReads, bobReads } = await pair();
    expect(await bobReads(await aliceSends('open'))).toBe('open');
    const fromAlice = [await aliceSends('a1'), await aliceSends('a2')];
    const fromBob = [await bobSends('b1'), await bobSends('b2')];
    expect(await aliceReads(fromBob[1] as string)).toBe('b2');
    expect(await bobReads(fromAlice[0] as string)).toBe('a1');
    expect(await aliceReads(fromBob[0] as string)).toBe('b1');
    expect(await bobReads(fromAlice[1] as string)).toBe('a2');
    const crossing = [await aliceSends('a3'), await bobSends('b3')];
    expect(await bobReads(crossing[0] as string)).toBe('a3');
    expect(await aliceReads(crossing[1] as string)).toBe('b3');
  });

  it('settles when both devices start a session with each other at once (two X3DH sessions)', async () => {
    const alice = await device(ALICE);
    const bob = await device(BOB);
    await alice.crypto.startSession(BOB, bob.bundle());
    await bob.crypto.startSession(ALICE, alice.bundle());
    const a1 = await alice.crypto.encrypt(BOB, utf8('from alice'));
    const b1 = await bob.crypto.encrypt(ALICE, utf8('from bob'));
    expect(fromUtf8((await bob.crypto.decrypt(ALICE, a1)).plaintext)).toBe('from alice');
    expect(fromUtf8((await alice.crypto.decrypt(BOB, b1)).plaintext)).toBe('from bob');
    for (let i = 0; i < 3; i++) {
      const a = await alice.crypto.encrypt(BOB, utf8(`a${i}`));
      const b = await bob.crypto.encrypt(ALICE, utf8(`b${i}`));
      expect(fromUtf8((await alice.crypto.decrypt(BOB, b)).plaintext)).toBe(`b${i}`);
      expect(fromUtf8((await bob.crypto.decrypt(ALICE, a)).plaintext)).toBe(`a${i}`);
    }
  });

  it('sets up without a one-time pre-key when the pool is exhausted', async () => {
    const { aliceSends, bobSends, aliceReads, bobReads, bob } = await pair(0);
    expect((await bob.store.listPreKeys('one-time')).length).toBe(0);
    expect(await bobReads(await aliceSends('no one-time pre-key'))).toBe('no one-time pre-key');
    expect(await aliceReads(await bobSends('fine'))).toBe('fine');
  });

  it('rotates the signed pre-key: in-flight first messages still open, two rotations later the old key is gone', async () => {
    const alice = await device(ALICE);
    const bob = await device(BOB);
    const oldBundle = bob.bundle();
    await alice.crypto.startSession(BOB, oldBundle);
    const inFlight = await alice.crypto.encrypt(BOB, utf8('made with the old signed pre-key'));

    const rotated = await bob.crypto.prepareKeys({ oneTimePreKeys: 1, rotateSignedPreKey: true });
    expect(rotated.signedPreKey).not.toBe(oldBundle.signedPreKey);
    expect(fromUtf8((await bob.crypto.decrypt(ALICE, inFlight)).plaintext)).toBe(
      'made with the old signed pre-key',
    );
    const carolAddress = { userId: 'carol', deviceId: 'c' };
    const carol = await device(carolAddress);
    await carol.crypto.startSession(BOB, {
      deviceId: BOB.deviceId,
      identityKey: rotated.identityKey,
      signedPreKey: rotated.signedPreKey,
      oneTimePreKey: rotated.oneTimePreKeys[0] ?? null,
    });
    const fromCarol = await carol.crypto.encrypt(BOB, utf8('with the new one'));
    expect(fromUtf8((await bob.crypto.decrypt(carolAddress, fromCarol)).plaintext)).toBe('with the new one');

    await bob.crypto.prepareKeys({ oneTimePreKeys: 0, rotateSignedPreKey: true });
    expect((await bob.store.listPreKeys('signed')).length).toBe(2);
    const daveAddress = { userId: 'dave', deviceId: 'd' };
    const dave = await device(daveAddress);
    await dave.crypto.startSession(BOB, { ...oldBundle, oneTimePreKey: null });
    expect(
      await refusal(bob.crypto.decrypt(daveAddress, await dave.crypto.encrypt(BOB, utf8('too late')))),
    ).toBe('unknown_pre_key');
  });

  it('refuses a bundle whose signed pre-key is not signed by its identity key', async () => {
    const alice = await device(ALICE);
    const bob = await device(BOB);
    const mallory = await device({ userId: 'mallory', deviceId: 'm' });
    const forged = { ...bob.bundle(), signedPreKey: mallory.bundle().signedPreKey };
    expect(await refusal(alice.crypto.startSession(BOB, forged))).toBe('bad_signature');
    expect(await refusal(alice.crypto.startSession(BOB, { ...bob.bundle(), identityKey: 'AAAA' }))).toBe(
      'malformed',
    );
    expect(await alice.crypto.hasSession(BOB)).toBe(false);
  });

  it('a session is not readable by another device of the same user (per-device-pair keys)', async () => {
    const { aliceSends } = await pair();
    const bobTablet = await device({ userId: 'bob', deviceId: 'tablet' });
    expect(await refusal(bobTablet.crypto.decrypt(ALICE, await aliceSends('for the laptop only')))).toBe(
      'unknown_pre_key',
    );
  });

  it('survives serialisation of the key store mid-conversation', async () => {
    const { alice, bob, aliceSends, bobReads } = await pair();
    expect(await bobReads(await aliceSends('before'))).toBe('before');
    const restored = await DeviceCrypto.open(MemoryKeyStore.fromSnapshot(bob.store.snapshot()));
    expect(restored.identityKey).toBe(bob.crypto.identityKey);
    const envelope = await alice.crypto.encrypt(BOB, utf8('after'));
    expect(fromUtf8((await restored.decrypt(ALICE, envelope)).plaintext)).toBe('after');
  });

  it('serialises concurrent operations on one session (no lost ratchet steps)', async () => {
    const { alice, bobReads } = await pair();
    const envelopes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => alice.crypto.encrypt(BOB, utf8(`parallel ${i}`))),
    );
    const read = await Promise.all(envelopes.map((envelope) => bobReads(envelope)));
    expect(read).toEqual(Array.from({ length: 20 }, (_, i) => `parallel ${i}`));
  });
});
