import { generatePopulation } from '@nova/contracts/seed';
import type { SeedContext, SeedResult } from '@nova/kernel';
import { authConfigOf } from '../config.js';
import { hashPassword } from '../security/password-hasher.js';
import { loadAccounts } from './load-accounts.js';

/** Every seeded account signs in with this password (demo and benchmark data only). */
export const SEED_PASSWORD = 'nova-seed-password';

/** `nova seed`: one verified account per user of the shared population, one precomputed hash for all. */
export async function seedAccounts({
  config,
  database,
  options,
  progress,
}: SeedContext): Promise<SeedResult> {
  const population = generatePopulation({
    users: options.users,
    seed: options.seed,
    avgFollows: options.follows / options.users,
  });
  const passwordHash = await hashPassword(SEED_PASSWORD, authConfigOf(config));
  const bar = progress('accounts', options.users);
  const accounts = (function* () {
    for (const chunk of population.userChunks(5000)) yield* chunk;
  })();
  let loaded = 0;
  try {
    await loadAccounts(database, accounts, passwordHash, (n) => {
      loaded = n;
      bar.update(n);
    });
  } finally {
    bar.done();
  }
  return { summary: `${loaded} accounts`, note: `every account's password is "${SEED_PASSWORD}"` };
}
