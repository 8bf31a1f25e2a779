import { randomUUID } from 'node:crypto';
import type { SocialApi } from '@nova/contracts';
import {
  API_PREFIX,
  type BlobStore,
  type Database,
  type EventLog,
  type Kernel,
  type KeyValueStore,
  type Logger,
  type OutboxWriter,
  type PubSub,
  type Realtime,
} from '@nova/kernel';
import { type LiveSettings, liveSettings } from './config.js';
import type { LiveTables } from './store/tables.js';

/** Exactly what the live service needs from the process, nothing more. */
export interface LiveContext {
  database: Database<LiveTables>;
  eventLog: EventLog;
  outbox: OutboxWriter;
  logger: Logger;
  settings: LiveSettings;
  /** HLS playlists and segments (`live/<streamId>/…`): any process serves them. */
  blobs: BlobStore;
  realtime: Realtime;
  /** The realtime role's pub/sub: ingest control (end a stream held by another process). */
  pubsub: PubSub;
  /** The realtime role's store: viewer sets with a TTL. */
  realtimeStore: KeyValueStore;
  /** The security role's store: chat rate limits. */
  securityStore: KeyValueStore;
  social: Pick<SocialApi, 'relationships'>;
  /** This process, as the holder of an ingest lease. */
  nodeId: string;
  /** Base of playbackUrl (NOVA_PUBLIC_URL + the API prefix). */
  publicApiUrl: string;
  /** Heartbeat of the socket: how often viewers are re-marked live. */
  heartbeatMs: number;
}

export async function createLiveContext(
  kernel: Kernel,
  deps: { social: Pick<SocialApi, 'relationships'> },
  overrides: Partial<LiveContext> = {},
): Promise<LiveContext> {
  return {
    database: overrides.database ?? (await kernel.databases.open<LiveTables>('live')),
    eventLog: overrides.eventLog ?? kernel.eventLog,
    outbox: overrides.outbox ?? kernel.outbox,
    logger: overrides.logger ?? kernel.logger.child({ service: 'live' }),
    settings: overrides.settings ?? liveSettings(kernel.config),
    blobs: overrides.blobs ?? kernel.blobs,
    realtime: overrides.realtime ?? kernel.realtime,
    pubsub: overrides.pubsub ?? kernel.pubsub,
    realtimeStore: overrides.realtimeStore ?? kernel.stores.realtime,
    securityStore: overrides.securityStore ?? kernel.stores.security,
    social: overrides.social ?? deps.social,
    nodeId: overrides.nodeId ?? randomUUID(),
    publicApiUrl: overrides.publicApiUrl ?? `${kernel.config.http.publicUrl}${API_PREFIX}`,
    heartbeatMs: overrides.heartbeatMs ?? kernel.config.realtime.heartbeatMs,
  };
}
