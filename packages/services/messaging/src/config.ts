import { type Config, defineModuleConfig, moduleSettings, type SettingsOf } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import { KEY_LIMITS } from './domain/key-rules.js';

/**
 * Messaging's own environment variables; read only by a process whose target
 * runs messaging. The key directory has none (its limits are part of the API
 * contract, not a deployment choice); each key added later gets a row in
 * README's configuration table.
 */
const MessagingEnv = Type.Object({});

export const messagingConfig = defineModuleConfig({
  schema: MessagingEnv,
  derive() {
    return { keys: KEY_LIMITS };
  },
});

export type MessagingSettings = SettingsOf<typeof messagingConfig>;

export function messagingSettings(config: Config): MessagingSettings {
  return moduleSettings(config, 'messaging', messagingConfig);
}
