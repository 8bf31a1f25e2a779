import { type Config, defineModuleConfig, EnvInt, moduleSettings, type SettingsOf } from '@nova/kernel';
import { Type } from '@sinclair/typebox';

const EnvFlag = (description: string) =>
  Type.Union([Type.Literal('true'), Type.Literal('false')], { default: 'false', description });

/**
 * The notification service's environment variables; read only by a process
 * whose target runs notifications. The WEB_PUSH_* names are API.md's. Each
 * has a row in README's configuration table.
 */
const NotificationsEnv = Type.Object({
  NOTIFICATIONS_GROUP_WINDOW_SECONDS: EnvInt(
    1,
    30 * 86_400,
    86_400,
    'actions on one target join the same notification while they fall within this many seconds of its first one',
  ),
  NOTIFICATIONS_RETENTION_DAYS: EnvInt(
    1,
    3650,
    90,
    'read notifications whose newest action is older than this are deleted by a scheduled job',
  ),
  WEB_PUSH_SUBJECT: Type.Optional(
    Type.String({
      pattern: '^(mailto:|https://)',
      description: 'VAPID subject: mailto: or https: contact of the operator',
    }),
  ),
  WEB_PUSH_VAPID_PUBLIC_KEY: Type.Optional(
    Type.String({ pattern: '^[A-Za-z0-9_-]{87}$', description: 'VAPID public key (base64url, 65 bytes)' }),
  ),
  WEB_PUSH_VAPID_PRIVATE_KEY: Type.Optional(
    Type.String({ pattern: '^[A-Za-z0-9_-]{43}$', description: 'VAPID private key (base64url, 32 bytes)' }),
  ),
  WEB_PUSH_INSECURE_ENDPOINTS: EnvFlag(
    'true also accepts plain-http and loopback/private push endpoints (development and tests only)',
  ),
  WEB_PUSH_TIMEOUT_SECONDS: EnvInt(1, 120, 10, 'one push request to a push service gives up after this'),
  WEB_PUSH_MAX_ATTEMPTS: EnvInt(
    1,
    50,
    8,
    'sends of one push (429, 5xx, network errors retried with backoff)',
  ),
  WEB_PUSH_TTL_SECONDS: EnvInt(0, 2_419_200, 86_400, 'how long a push service keeps an undelivered push'),
});

export interface VapidConfig {
  subject: string;
  /** Both from config, or neither: a key pair kept under NOVA_DATA_DIR. */
  keys: { publicKey: string; privateKey: string } | undefined;
}

export const notificationsConfig = defineModuleConfig({
  schema: NotificationsEnv,
  derive(env, { kernel, problem }) {
    const hasPublic = env.WEB_PUSH_VAPID_PUBLIC_KEY !== undefined;
    const hasPrivate = env.WEB_PUSH_VAPID_PRIVATE_KEY !== undefined;
    if (hasPublic !== hasPrivate)
      problem(
        hasPublic ? 'WEB_PUSH_VAPID_PRIVATE_KEY' : 'WEB_PUSH_VAPID_PUBLIC_KEY',
        'set both VAPID keys or neither (then a pair is generated under NOVA_DATA_DIR)',
      );
    const publicUrl = kernel.http.publicUrl;
    const vapid: VapidConfig = {
      // RFC 8292 wants a contact: an https origin of the operator, else a mailbox.
      subject:
        env.WEB_PUSH_SUBJECT ??
        (publicUrl.startsWith('https://') ? publicUrl : 'mailto:operator@nova.invalid'),
      keys:
        env.WEB_PUSH_VAPID_PUBLIC_KEY && env.WEB_PUSH_VAPID_PRIVATE_KEY
          ? { publicKey: env.WEB_PUSH_VAPID_PUBLIC_KEY, privateKey: env.WEB_PUSH_VAPID_PRIVATE_KEY }
          : undefined,
    };
    return {
      groupWindowMs: env.NOTIFICATIONS_GROUP_WINDOW_SECONDS * 1000,
      retentionMs: env.NOTIFICATIONS_RETENTION_DAYS * 86_400_000,
      dataDir: kernel.dataDir,
      push: {
        vapid,
        insecureEndpoints: env.WEB_PUSH_INSECURE_ENDPOINTS === 'true',
        timeoutMs: env.WEB_PUSH_TIMEOUT_SECONDS * 1000,
        maxAttempts: env.WEB_PUSH_MAX_ATTEMPTS,
        ttlSeconds: env.WEB_PUSH_TTL_SECONDS,
      },
    };
  },
});

export type NotificationsSettings = SettingsOf<typeof notificationsConfig>;
export type PushSettings = NotificationsSettings['push'];

export function notificationsSettings(config: Config): NotificationsSettings {
  return moduleSettings(config, 'notifications', notificationsConfig);
}
