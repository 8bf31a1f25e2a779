import type { AccountCommands } from '../commands/account-commands.js';
import type { LoginCommands } from '../commands/login-commands.js';
import type { PasswordCommands } from '../commands/password-commands.js';
import type { SessionCommands } from '../commands/session-commands.js';
import type { TwoFactorCommands } from '../commands/two-factor-commands.js';
import type { AccountQueries } from '../queries/account-queries.js';
import type { SessionQueries } from '../queries/session-queries.js';
import type { TokenQueries } from '../queries/token-queries.js';

/** What the route files call: the service's commands and queries, built once in index.ts. */
export interface AuthHandlers {
  accounts: AccountCommands;
  logins: LoginCommands;
  sessions: SessionCommands;
  passwords: PasswordCommands;
  twoFactor: TwoFactorCommands;
  accountQueries: AccountQueries;
  sessionQueries: SessionQueries;
  tokenQueries: TokenQueries;
}
