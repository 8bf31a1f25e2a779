import { type Config, defineModuleConfig, moduleSettings, type SettingsOf } from '@nova/kernel';
import { Type } from '@sinclair/typebox';
import { deriveMediaSettings, MediaEnv } from './media/media-config.js';

/**
 * Content's own environment variables; read only by a process whose target
 * runs content. The posts side has none yet; the media pipeline's are
 * MEDIA_* (src/media/media-config.ts). Each has a row in README's
 * configuration table.
 */
const ContentEnv = Type.Object({ ...MediaEnv });

export const contentConfig = defineModuleConfig({
  schema: ContentEnv,
  derive(values) {
    return { media: deriveMediaSettings(values) };
  },
});

export type ContentSettings = SettingsOf<typeof contentConfig>;

export function contentSettings(config: Config): ContentSettings {
  return moduleSettings(config, 'content', contentConfig);
}
