import type { Account } from '@nova/contracts';
import type { AuthContext } from '../context.js';
import { toAccount } from '../store/account-mapper.js';
import { usersRepository } from '../store/users-repository.js';

export function createAccountQueries(ctx: AuthContext) {
  return {
    /** Sync API: one query whatever the number of ids; unknown ids are omitted. */
    async getAccounts(ids: readonly string[]): Promise<Account[]> {
      const users = await usersRepository.findByIds(ctx.database.db, ids);
      return users.map(toAccount);
    },
  };
}

export type AccountQueries = ReturnType<typeof createAccountQueries>;
