import { hash, verify } from '@node-rs/argon2';
import type { AuthConfig } from '../config.js';

// @node-rs/argon2 declares Algorithm as a const enum, which isolatedModules cannot read: 2 is Argon2id.
const ARGON2ID = 2;

export type Argon2Settings = AuthConfig['auth']['argon2'];

/** argon2id with the configured cost; one lane so concurrent logins don't fight for cores. */
export function hashPassword(password: string, config: Pick<AuthConfig, 'auth'>): Promise<string> {
  const { memoryCost, timeCost } = config.auth.argon2;
  return hash(password, { algorithm: ARGON2ID, memoryCost, timeCost, parallelism: 1 });
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /**
   * Spends the time of a real verification against a fixed hash, so an
   * unknown login answers no faster than a wrong password.
   */
  verifyDummy(password: string): Promise<false>;
}

export async function createPasswordHasher(config: Pick<AuthConfig, 'auth'>): Promise<PasswordHasher> {
  const dummyHash = await hashPassword('nova-dummy-password-for-timing', config);
  const check = async (passwordHash: string, password: string) => {
    try {
      return await verify(passwordHash, password);
    } catch {
      // A malformed stored hash must read as "wrong password", never as a 500 that reveals the account.
      return false;
    }
  };
  return {
    hash: (password) => hashPassword(password, config),
    verify: check,
    async verifyDummy(password) {
      await check(dummyHash, password);
      return false;
    },
  };
}
