import { type Config, defineModuleConfig, EnvInt, moduleSettings, type SettingsOf } from '@nova/kernel';
import { Type } from '@sinclair/typebox';

/**
 * Live's own environment variables; read only by a process whose target
 * runs live. Each has a row in README's configuration table.
 */
const LiveEnv = Type.Object({
  RTMP_PORT: EnvInt(
    0,
    65_535,
    1935,
    'where live-stream ingest (RTMP) listens, on HOST; `ingestUrl` points here (0: a free port, for tests)',
  ),
  LIVE_END_GRACE_SECONDS: EnvInt(
    0,
    3600,
    10,
    'how long a live stream waits for its publisher to come back before it ends',
  ),
  LIVE_RECORDING_RETENTION_MINUTES: EnvInt(
    0,
    525_600,
    60,
    'how long the HLS playlist and segments of an ended stream stay playable before they are removed',
  ),
  LIVE_CHAT_MESSAGES_PER_MINUTE: EnvInt(
    1,
    10_000,
    20,
    'chat messages one user may send per stream per minute',
  ),
});

export interface LiveSettings {
  rtmp: { port: number; host: string };
  /** The public host name `ingestUrl` names (NOVA_PUBLIC_URL's). */
  publicHost: string;
  endGraceMs: number;
  recordingRetentionMs: number;
  chat: { messagesPerMinute: number; maxLength: number };
  /** Where ffmpeg writes a stream's HLS before it is copied to the blob store. */
  workDir: string;
}

/** Longest chat message, in characters (after trimming). */
export const CHAT_MAX_LENGTH = 500;

export const liveConfig = defineModuleConfig({
  schema: LiveEnv,
  derive(values, { kernel }): LiveSettings {
    return {
      rtmp: { port: values.RTMP_PORT, host: kernel.http.host },
      publicHost: new URL(kernel.http.publicUrl).hostname,
      endGraceMs: values.LIVE_END_GRACE_SECONDS * 1000,
      recordingRetentionMs: values.LIVE_RECORDING_RETENTION_MINUTES * 60_000,
      chat: { messagesPerMinute: values.LIVE_CHAT_MESSAGES_PER_MINUTE, maxLength: CHAT_MAX_LENGTH },
      workDir: `${kernel.dataDir}/live`,
    };
  },
});

export type LiveConfigSettings = SettingsOf<typeof liveConfig>;

export function liveSettings(config: Config): LiveSettings {
  return moduleSettings(config, 'live', liveConfig);
}
