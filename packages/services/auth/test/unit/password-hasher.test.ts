import { describe, expect, it } from 'vitest';
import { createPasswordHasher, hashPassword } from '../../src/security/password-hasher.js';
import { loadAuthConfig } from '../support/config.js';

const config = loadAuthConfig({ ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '2' });

describe('password hasher', () => {
  it('hashes with argon2id and the configured cost, and verifies', async () => {
    const hasher = await createPasswordHasher(config);
    const stored = await hashPassword('correct horse battery', config);
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=8192,t=2,p=1\$/);
    expect(await hasher.verify(stored, 'correct horse battery')).toBe(true);
    expect(await hasher.verify(stored, 'correct horse batterY')).toBe(false);
    expect(await hasher.verify('not a hash', 'x')).toBe(false);
  });

  it('spends about as long on an unknown account as on a wrong password', async () => {
    const hasher = await createPasswordHasher(config);
    const stored = await hasher.hash('correct horse battery');
    // Interleaved samples: both paths see the same machine load (other suites
    // share these CPUs), so the ratio measures the code, not the neighbours.
    const wrongSamples: number[] = [];
    const unknownSamples: number[] = [];
    const timed = async (fn: () => Promise<unknown>, into: number[]) => {
      const started = performance.now();
      await fn();
      into.push(performance.now() - started);
    };
    for (let i = 0; i < 9; i++) {
      await timed(() => hasher.verify(stored, 'wrong password'), wrongSamples);
      await timed(() => hasher.verifyDummy('wrong password'), unknownSamples);
    }
    const median = (samples: number[]) => samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
    const wrong = median(wrongSamples);
    const unknown = median(unknownSamples);
    expect(unknown / wrong).toBeGreaterThan(0.5);
    expect(unknown / wrong).toBeLessThan(2);
    expect(await hasher.verifyDummy('anything')).toBe(false);
  });
});
