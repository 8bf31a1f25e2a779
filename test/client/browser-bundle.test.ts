import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * The SDK as a browser gets it: bundled by esbuild for the browser platform
 * (a Node built-in anywhere in the graph fails the build), then run in a
 * bare V8 context that has only the Web APIs a browser has — no Buffer, no
 * process, no require — where two devices set up X3DH and exchange
 * messages through the Double Ratchet.
 */
describe('the client SDK in a browser-like context', () => {
  it('bundles for the browser and runs the end-to-end layer with Web APIs only', async () => {
    const bundle = await build({
      entryPoints: ['packages/client/src/index.ts'],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'NovaSdk',
      target: 'es2022',
      write: false,
      logLevel: 'silent',
    });
    const code = bundle.outputFiles[0]?.text ?? '';
    expect(code).not.toMatch(/\brequire\(/);

    const browser = {
      crypto: globalThis.crypto,
      TextEncoder,
      TextDecoder,
      atob,
      btoa,
      URL,
      console,
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
    };
    const script = `${code}
      (async () => {
        const { DeviceCrypto, MemoryKeyStore, utf8, fromUtf8 } = NovaSdk;
        const alice = await DeviceCrypto.open(new MemoryKeyStore());
        const bob = await DeviceCrypto.open(new MemoryKeyStore());
        const keys = await bob.prepareKeys({ oneTimePreKeys: 1 });
        const toBob = { userId: 'bob', deviceId: 'b' };
        const toAlice = { userId: 'alice', deviceId: 'a' };
        await alice.startSession(toBob, { deviceId: 'b', identityKey: keys.identityKey,
          signedPreKey: keys.signedPreKey, oneTimePreKey: keys.oneTimePreKeys[0] });
        const first = await bob.decrypt(toAlice, await alice.encrypt(toBob, utf8('hi bob')));
        const second = await alice.decrypt(toBob, await bob.encrypt(toAlice, utf8('hi alice')));
        return [fromUtf8(first.plaintext), fromUtf8(second.plaintext),
          typeof Buffer, typeof process, typeof require];
      })()`;
    const result = await runInNewContext(script, browser);
    expect(result).toEqual(['hi bob', 'hi alice', 'undefined', 'undefined', 'undefined']);
  });
});
