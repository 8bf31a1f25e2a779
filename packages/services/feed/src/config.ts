import { type Config, defineModuleConfig, EnvInt, moduleSettings, type SettingsOf } from '@nova/kernel';
import { Type } from '@sinclair/typebox';

/**
 * The feed's own environment variables (read only by a process whose target
 * runs the feed). Each has a row in README's configuration table.
 */
const FeedEnv = Type.Object({
  FEED_TIMELINE_CAP: EnvInt(50, 10_000, 800, 'post ids kept per cached home timeline'),
  FEED_CELEBRITY_FOLLOWERS: EnvInt(
    1,
    100_000_000,
    10_000,
    'authors with at least this many followers are not fanned out; their posts are merged at read time',
  ),
  FEED_INACTIVE_DAYS: EnvInt(
    1,
    3650,
    30,
    'followers idle longer than this are skipped by fan-out; their timeline is rebuilt when they return',
  ),
  FEED_FANOUT_BATCH: EnvInt(
    10,
    10_000,
    500,
    'followers one fan-out step writes before other posts get a turn',
  ),
  FEED_FANOUT_POLL_MS: EnvInt(10, 60_000, 100, 'how often the fan-out worker looks for queued posts'),
  FEED_PAGE_CACHE_SECONDS: EnvInt(
    0,
    3600,
    120,
    "lifetime of a cached feed page and its rendered answer (0 = none); the viewer's own actions and the events of what it shows invalidate them",
  ),
  FEED_PREWARM_INTERVAL_SECONDS: EnvInt(
    0,
    86_400,
    300,
    'how often the timelines of the most active users are rebuilt ahead of their next read (0 = never)',
  ),
  FEED_PREWARM_USERS: EnvInt(
    0,
    1_000_000,
    200,
    'how many of the most recently active users a pre-warm run covers',
  ),
});

export const feedConfig = defineModuleConfig({
  schema: FeedEnv,
  derive(values) {
    return {
      timelineCap: values.FEED_TIMELINE_CAP,
      celebrityFollowers: values.FEED_CELEBRITY_FOLLOWERS,
      inactiveMs: values.FEED_INACTIVE_DAYS * 86_400_000,
      fanoutBatch: values.FEED_FANOUT_BATCH,
      fanoutPollMs: values.FEED_FANOUT_POLL_MS,
      pageCacheMs: values.FEED_PAGE_CACHE_SECONDS * 1000,
      prewarmIntervalMs: values.FEED_PREWARM_INTERVAL_SECONDS * 1000,
      prewarmUsers: values.FEED_PREWARM_USERS,
    };
  },
});

export type FeedSettings = SettingsOf<typeof feedConfig>;

export const DEFAULT_FEED_SETTINGS: FeedSettings = {
  timelineCap: 800,
  celebrityFollowers: 10_000,
  inactiveMs: 30 * 86_400_000,
  fanoutBatch: 500,
  fanoutPollMs: 100,
  pageCacheMs: 120_000,
  prewarmIntervalMs: 300_000,
  prewarmUsers: 200,
};

export function feedSettings(config: Config): FeedSettings {
  return moduleSettings(config, 'feed', feedConfig);
}
