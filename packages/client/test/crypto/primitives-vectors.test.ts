import { hexToBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/crypto/bytes.js';
import {
  aeadOpen,
  aeadSeal,
  dh,
  dhPublicKey,
  hkdf,
  hmacSha256,
  identityDhPublicKey,
  identityDhSecretKey,
  sign,
  verify,
} from '../../src/crypto/primitives.js';

/**
 * Published test vectors run through the SDK's own wrappers: they check
 * that the audited primitives are wired the right way round (argument
 * order, salt vs. key, tag placement), not the libraries themselves.
 */
const hex = (text: string) => hexToBytes(text.replace(/\s+/g, ''));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('X25519 (RFC 7748)', () => {
  it('§5.2 scalar multiplication vectors', () => {
    expect(
      toHex(
        dh(
          hex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'),
          hex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c'),
        ),
      ),
    ).toBe('c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552');
    expect(
      toHex(
        dh(
          hex('4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d'),
          hex('e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493'),
        ),
      ),
    ).toBe('95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957');
  });

  it('§6.1 Diffie-Hellman: both sides derive the published shared secret', () => {
    const alice = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bob = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
    expect(toHex(dhPublicKey(alice))).toBe(
      '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
    );
    expect(toHex(dhPublicKey(bob))).toBe('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    expect(toHex(dh(alice, dhPublicKey(bob)))).toBe(shared);
    expect(toHex(dh(bob, dhPublicKey(alice)))).toBe(shared);
  });

  it('refuses a low-order public key (all-zero shared secret)', () => {
    const secret = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    expect(() => dh(secret, new Uint8Array(32))).toThrow();
  });
});

describe('Ed25519 (RFC 8032 §7.1)', () => {
  const cases = [
    {
      secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      publicKey: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      message: '',
      signature:
        'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    },
    {
      secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
      publicKey: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      message: '72',
      signature:
        '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    },
  ];

  it.each(cases)('signs and verifies test $#', ({ secret, publicKey, message, signature }) => {
    expect(toHex(sign(hex(secret), hex(message)))).toBe(signature);
    expect(verify(hex(publicKey), hex(message), hex(signature))).toBe(true);
    const flipped = hex(signature);
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(verify(hex(publicKey), hex(message), flipped)).toBe(false);
    expect(verify(hex(publicKey), hex('73'), hex(signature))).toBe(false);
  });

  it('maps an identity key to X25519 consistently (public form of the secret form)', () => {
    const secret = hex(cases[0]!.secret);
    expect(toHex(dhPublicKey(identityDhSecretKey(secret)))).toBe(
      toHex(identityDhPublicKey(hex(cases[0]!.publicKey))),
    );
  });
});

describe('HKDF-SHA-256 (RFC 5869 appendix A)', () => {
  it('test case 1', () => {
    const okm = hkdf(
      hex('0b'.repeat(22)),
      hex('000102030405060708090a0b0c'),
      hex('f0f1f2f3f4f5f6f7f8f9'),
      42,
    );
    expect(toHex(okm)).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it('test case 3 (empty salt and info)', () => {
    const okm = hkdf(hex('0b'.repeat(22)), new Uint8Array(0), new Uint8Array(0), 42);
    expect(toHex(okm)).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });
});

describe('HMAC-SHA-256 (RFC 4231 test case 1)', () => {
  it('keys the MAC with the first argument', () => {
    expect(toHex(hmacSha256(hex('0b'.repeat(20)), new TextEncoder().encode('Hi There')))).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
  });
});

describe('AES-256-GCM (McGrew–Viega GCM test cases 13 and 14)', () => {
  const key = new Uint8Array(32);
  const nonce = new Uint8Array(12);
  const none = new Uint8Array(0);

  it('test case 13: empty plaintext → the tag only', () => {
    expect(toHex(aeadSeal(key, nonce, none, none))).toBe('530f8afbc74536b9a963b4f1c4cb738b');
  });

  it('test case 14: one zero block → ciphertext ‖ tag; a flipped bit or other AD is refused', () => {
    const sealed = aeadSeal(key, nonce, new Uint8Array(16), none);
    expect(toHex(sealed)).toBe('cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919');
    expect(toBase64(aeadOpen(key, nonce, sealed, none))).toBe(toBase64(new Uint8Array(16)));
    const flipped = sealed.slice();
    flipped[3] = (flipped[3] as number) ^ 0x80;
    expect(() => aeadOpen(key, nonce, flipped, none)).toThrow();
    expect(() => aeadOpen(key, nonce, sealed, Uint8Array.of(1))).toThrow();
  });
});
