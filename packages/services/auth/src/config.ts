import {
  type Config,
  defineModuleConfig,
  EnvInt,
  EnvUrl,
  type ModuleConfig,
  moduleSettings,
  type SettingsOf,
} from '@nova/kernel';
import { type TObject, Type } from '@sinclair/typebox';

/** Auth's own environment variables; read only by a process whose target runs auth. */
const AuthEnv = Type.Object({
  SMTP_URL: EnvUrl('outgoing mail (unset: .eml files under NOVA_DATA_DIR/mail)'),
  MAIL_FROM: Type.String({
    default: 'Nova <no-reply@nova.local>',
    minLength: 3,
    description: 'sender of outgoing mail',
  }),
  AUTH_SIGNING_KEYS: Type.Optional(
    Type.String({
      minLength: 2,
      description: 'JSON array of Ed25519 private JWKs (first signs); required in production',
    }),
  ),
  AUTH_ENCRYPTION_KEY: Type.Optional(
    Type.String({
      minLength: 44,
      description: 'base64 32-byte key for secrets at rest; required in production',
    }),
  ),
  AUTH_ENCRYPTION_KEYS_ACCEPTED: Type.String({
    default: '',
    description:
      'comma-separated base64 32-byte keys that still open secrets at rest (never seal): a rotation adds the new key here, then swaps it with AUTH_ENCRYPTION_KEY; secrets under an accepted key are re-sealed under AUTH_ENCRYPTION_KEY in the background',
  }),
  ACCESS_TOKEN_TTL_SECONDS: EnvInt(60, 86_400, 900, 'access token lifetime'),
  REFRESH_TOKEN_TTL_SECONDS: EnvInt(3600, 31_536_000, 2_592_000, 'refresh token family lifetime'),
  ARGON2_MEMORY_KIB: EnvInt(8192, 1_048_576, 19_456, 'argon2id memory cost'),
  ARGON2_TIME_COST: EnvInt(1, 10, 2, 'argon2id iterations'),
  LOGIN_MAX_FAILURES: EnvInt(1, 1000, 5, 'failed logins per account per window before 429'),
  LOGIN_MAX_FAILURES_PER_IP: EnvInt(1, 100_000, 50, 'failed logins per IP per window before 429'),
  LOGIN_FAILURE_WINDOW_SECONDS: EnvInt(1, 86_400, 900, 'window of the login throttles'),
  REFRESH_REUSE_GRACE_SECONDS: EnvInt(
    0,
    300,
    10,
    'a used refresh token presented again within this many seconds (two tabs, a retry) gets a new pair instead of revoking its family; 0: never',
  ),
  REGISTER_MAX_PER_IP: EnvInt(1, 1_000_000, 20, 'registrations per client IP per window before 429'),
  REGISTER_WINDOW_SECONDS: EnvInt(1, 86_400, 3600, 'window of the registration throttle'),
});

export const authConfig = defineModuleConfig({
  schema: AuthEnv,
  derive(env, { kernel, problem }) {
    if (kernel.env === 'production') {
      // Generated keys live on one machine's disk: a second replica would sign with another key.
      if (!env.AUTH_SIGNING_KEYS) problem('AUTH_SIGNING_KEYS', 'required in production');
      if (!env.AUTH_ENCRYPTION_KEY) problem('AUTH_ENCRYPTION_KEY', 'required in production');
    }
    if (env.AUTH_ENCRYPTION_KEY && Buffer.from(env.AUTH_ENCRYPTION_KEY, 'base64').length !== 32) {
      problem('AUTH_ENCRYPTION_KEY', 'must be 32 bytes, base64-encoded');
    }
    const acceptedKeys = env.AUTH_ENCRYPTION_KEYS_ACCEPTED.split(',').filter(Boolean);
    if (acceptedKeys.some((key) => Buffer.from(key, 'base64').length !== 32))
      problem('AUTH_ENCRYPTION_KEYS_ACCEPTED', 'each key must be 32 bytes, base64-encoded');
    if (acceptedKeys.length > 0 && !env.AUTH_ENCRYPTION_KEY)
      problem('AUTH_ENCRYPTION_KEYS_ACCEPTED', 'needs AUTH_ENCRYPTION_KEY (the key that seals)');
    if (env.AUTH_SIGNING_KEYS) {
      let keys: unknown;
      try {
        keys = JSON.parse(env.AUTH_SIGNING_KEYS);
      } catch {
        keys = undefined;
      }
      if (!Array.isArray(keys) || keys.length === 0)
        problem('AUTH_SIGNING_KEYS', 'must be a JSON array of Ed25519 private JWKs');
    }
    return {
      mail: { smtpUrl: env.SMTP_URL, from: env.MAIL_FROM },
      auth: {
        signingKeys: env.AUTH_SIGNING_KEYS,
        encryptionKey: env.AUTH_ENCRYPTION_KEY,
        acceptedEncryptionKeys: acceptedKeys,
        accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
        refreshTokenTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
        argon2: { memoryCost: env.ARGON2_MEMORY_KIB, timeCost: env.ARGON2_TIME_COST },
        login: {
          maxFailures: env.LOGIN_MAX_FAILURES,
          maxFailuresPerIp: env.LOGIN_MAX_FAILURES_PER_IP,
          windowSeconds: env.LOGIN_FAILURE_WINDOW_SECONDS,
        },
        /** 0: any reuse of a used refresh token revokes its family. */
        refreshReuseGraceSeconds: env.REFRESH_REUSE_GRACE_SECONDS,
        registration: { maxPerIp: env.REGISTER_MAX_PER_IP, windowSeconds: env.REGISTER_WINDOW_SECONDS },
      },
    };
  },
}) satisfies ModuleConfig<TObject, unknown>;

export type AuthSettings = SettingsOf<typeof authConfig>;

/** The process config with auth's settings beside the kernel's: what auth's code reads. */
export type AuthConfig = Config & AuthSettings;

/** Auth's view of a config built with the auth module in its composition. */
export function authConfigOf(config: Config): AuthConfig {
  return { ...config, ...moduleSettings(config, 'auth', authConfig) };
}
