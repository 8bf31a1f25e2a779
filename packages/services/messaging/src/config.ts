import { type Config, defineModuleConfig, EnvInt, moduleSettings, type SettingsOf } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import { KEY_LIMITS } from './domain/key-rules.js';

/**
 * Messaging's own environment variables; read only by a process whose target
 * runs messaging. Key and envelope limits are part of the API contract, not a
 * deployment choice; retention is. Each key has a row in README's
 * configuration table.
 */
const MessagingEnv = Type.Object({
  MESSAGING_RETENTION_HOURS: EnvInt(
    1,
    87_600,
    720,
    'messages delivered to every recipient device are removed once older than this',
  ),
  MESSAGING_UNDELIVERED_RETENTION_DAYS: EnvInt(
    1,
    3650,
    90,
    'an envelope its device never acknowledged is removed once its message is older than this',
  ),
});

export const messagingConfig = defineModuleConfig({
  schema: MessagingEnv,
  derive(values) {
    return {
      keys: KEY_LIMITS,
      retentionMs: values.MESSAGING_RETENTION_HOURS * 3_600_000,
      undeliveredRetentionMs: values.MESSAGING_UNDELIVERED_RETENTION_DAYS * 86_400_000,
    };
  },
});

export type MessagingSettings = SettingsOf<typeof messagingConfig>;

export function messagingSettings(config: Config): MessagingSettings {
  return moduleSettings(config, 'messaging', messagingConfig);
}
