import { loadConfig } from '@nova/kernel';
import { describe, expect, it } from 'vitest';
import { createPasswordHasher, hashPassword } from '../../src/security/password-hasher.js';

const config = loadConfig({ ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '2' });

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
    const time = async (fn: () => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < 7; i++) {
        const started = performance.now();
        await fn();
        samples.push(performance.now() - started);
      }
      return samples.sort((a, b) => a - b)[3]!;
    };
    const wrong = await time(() => hasher.verify(stored, 'wrong password'));
    const unknown = await time(() => hasher.verifyDummy('wrong password'));
    expect(unknown / wrong).toBeGreaterThan(0.5);
    expect(unknown / wrong).toBeLessThan(2);
    expect(await hasher.verifyDummy('anything')).toBe(false);
  });
});
