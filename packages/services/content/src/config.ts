import { type Config, defineModuleConfig, moduleSettings, type SettingsOf } from '@nova/kernel';
import { Type } from '@sinclair/typebox';

/**
 * Content's own environment variables; read only by a process whose target
 * runs content. The posts side has none yet; the media pipeline adds its keys
 * here (each with a row in README's configuration table).
 */
const ContentEnv = Type.Object({});

export const contentConfig = defineModuleConfig({
  schema: ContentEnv,
  derive() {
    return {};
  },
});

export type ContentSettings = SettingsOf<typeof contentConfig>;

export function contentSettings(config: Config): ContentSettings {
  return moduleSettings(config, 'content', contentConfig);
}
