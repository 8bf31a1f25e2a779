import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AuthApiHandlers, authSyncApi } from '@nova/contracts';
import type { ServiceModule } from '@nova/kernel';
import type { AuthHandlers } from './api/auth-handlers.js';
import { authRoutes } from './api/routes.js';
import { createAccountCommands } from './commands/account-commands.js';
import { createLoginCommands } from './commands/login-commands.js';
import { createPasswordCommands } from './commands/password-commands.js';
import { createSessionCommands } from './commands/session-commands.js';
import { createTwoFactorCommands } from './commands/two-factor-commands.js';
import { authConfig } from './config.js';
import { type AuthContext, createAuthContext } from './context.js';
import { createAccountQueries } from './queries/account-queries.js';
import { createSessionQueries } from './queries/session-queries.js';
import { createTokenQueries } from './queries/token-queries.js';
import { seedAccounts } from './seed/seed-accounts.js';
import { createMailer } from './workers/mailer.js';
import { createResealJob } from './workers/reseal-job.js';

export { type AuthConfig, type AuthSettings, authConfig, authConfigOf } from './config.js';
export type { AuthContext } from './context.js';
export { createAuthContext } from './context.js';
export { generateSigningJwk } from './keys/signing-keys.js';
export { hashPassword } from './security/password-hasher.js';
export { loadAccounts, type SeedAccount } from './seed/load-accounts.js';
export { SEED_PASSWORD } from './seed/seed-accounts.js';

export function createAuthHandlers(ctx: AuthContext): AuthHandlers {
  return {
    accounts: createAccountCommands(ctx),
    logins: createLoginCommands(ctx),
    sessions: createSessionCommands(ctx),
    passwords: createPasswordCommands(ctx),
    twoFactor: createTwoFactorCommands(ctx),
    accountQueries: createAccountQueries(ctx),
    sessionQueries: createSessionQueries(ctx),
    tokenQueries: createTokenQueries(ctx),
  };
}

const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../migrations');

/** Credentials, sessions, tokens and 2FA. Its sync API backs the edge's token check. */
export const authModule: ServiceModule<AuthApiHandlers> = {
  name: 'auth',
  dependsOn: [],
  syncApi: authSyncApi,
  migrationsDir,
  config: authConfig,
  async init(kernel) {
    const ctx = await createAuthContext(kernel);
    // Eagerly, so the first request after a restart does not wait for it; a failure here is not
    // fatal: the first verification that finds the store incomplete retries (and answers 503 meanwhile).
    await ctx.revocations.restore().catch((error: unknown) => {
      ctx.logger.error({ err: error }, 'could not restore revocation marks at start');
    });
    const auth = createAuthHandlers(ctx);
    return {
      api: {
        verifyToken: ({ token }) => auth.tokenQueries.verify(token),
        getAccounts: async ({ ids }) => ({ accounts: await auth.accountQueries.getAccounts(ids) }),
      },
      routes: authRoutes(auth),
      workers: [createMailer(ctx), createResealJob(ctx)],
      async close() {
        await ctx.detached.drain(Date.now() + 5000);
        ctx.mail.close();
      },
    };
  },
  seed: seedAccounts,
};
