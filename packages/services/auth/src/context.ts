import { revocationStore } from '@nova/contracts';
import {
  createRateLimiter,
  type Database,
  type EventLog,
  type Kernel,
  type KeyValueStore,
  type Logger,
  type OutboxWriter,
  type RateLimiter,
} from '@nova/kernel';
import { type AuthConfig, authConfigOf } from './config.js';
import { loadSecretBox, type SecretBox } from './keys/secret-box.js';
import { loadSigningKeys, type SigningKeys } from './keys/signing-keys.js';
import { createMailTransport, type MailTransport } from './mail/mail-transport.js';
import { type AccessTokens, createAccessTokens } from './security/access-tokens.js';
import { createDetachedWork, type DetachedWork } from './security/detached-work.js';
import { createPasswordHasher, type PasswordHasher } from './security/password-hasher.js';
import { createRevocations, type Revocations } from './security/revocations.js';
import { revokedSessionSource } from './security/revoked-sessions.js';
import type { AuthTables } from './store/tables.js';

/** Exactly what the auth service uses; nothing else of the kernel reaches its code. */
export interface AuthContext {
  /** The process config with auth's own settings (`config.auth`, `config.mail`). */
  config: AuthConfig;
  logger: Logger;
  database: Database<AuthTables>;
  /** Revocations, 2FA challenges and login throttles. */
  security: KeyValueStore;
  /** Read models that are not truth (the session list). */
  cache: KeyValueStore;
  rateLimiter: RateLimiter;
  keys: SigningKeys;
  secretBox: SecretBox;
  accessTokens: AccessTokens;
  revocations: Revocations;
  passwords: PasswordHasher;
  mail: MailTransport;
  outbox: OutboxWriter;
  /** Where the mailer consumes the user events. */
  eventLog: EventLog;
  /** Work answered before it is done (password-reset requests). */
  detached: DetachedWork;
}

/** Builds the context from the kernel; tests pass overrides (e.g. another mail transport). */
export async function createAuthContext(
  kernel: Kernel,
  overrides: Partial<AuthContext> = {},
): Promise<AuthContext> {
  const config = overrides.config ?? authConfigOf(kernel.config);
  const security = overrides.security ?? kernel.stores.security;
  const keys = overrides.keys ?? (await loadSigningKeys(config));
  const ttl = config.auth.accessTokenTtlSeconds;
  const logger = overrides.logger ?? kernel.logger.child({ module: 'auth' });
  const database = overrides.database ?? (await kernel.databases.open<AuthTables>('auth'));
  const revocations =
    overrides.revocations ??
    createRevocations({
      store: revocationStore(security),
      accessTtlSeconds: ttl,
      source: revokedSessionSource(database),
      logger,
    });
  return {
    config,
    logger,
    database,
    security,
    cache: overrides.cache ?? kernel.stores.cache,
    rateLimiter: overrides.rateLimiter ?? createRateLimiter(security),
    keys,
    secretBox: overrides.secretBox ?? (await loadSecretBox(config)),
    accessTokens: overrides.accessTokens ?? createAccessTokens(keys, revocations, ttl),
    revocations,
    passwords: overrides.passwords ?? (await createPasswordHasher(config)),
    mail: overrides.mail ?? createMailTransport(config),
    outbox: overrides.outbox ?? kernel.outbox,
    eventLog: overrides.eventLog ?? kernel.eventLog,
    detached: overrides.detached ?? createDetachedWork(logger),
  };
}
