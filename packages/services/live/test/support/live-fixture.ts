import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertEventPayload, type Relationship } from '@nova/contracts';
import {
  type ChannelDefinition,
  createFsBlobStore,
  createLogger,
  createMemoryPubSub,
  createMemoryStore,
  createOutboxWriter,
  type Frame,
  type Realtime,
  type RealtimeTarget,
  runMigrations,
} from '@nova/kernel';
import { type DatabaseKind, NO_EVENT_LOG, openTestDatabases, outboxEvents } from '@nova/kernel/testing';
import { CHAT_MAX_LENGTH } from '../../src/config.js';
import type { LiveContext } from '../../src/context.js';
import { LIVE_MIGRATIONS_DIR } from '../../src/index.js';
import type { LiveTables } from '../../src/store/tables.js';

export interface LiveFixture {
  /** A context of one process; `node()` gives another process on the same database and stores. */
  ctx: LiveContext;
  node(): LiveContext;
  social: { follow(a: string, b: string): void; block(a: string, b: string): void };
  published: { target: RealtimeTarget; frame: Frame }[];
  /** Channels the service registered on the (recorded) socket. */
  channels: ChannelDefinition[];
  events(...types: string[]): Promise<{ type: string; payload: Record<string, unknown> }[]>;
  close(): Promise<void>;
}

/** Live's commands and queries on a migrated private database; social answered from in-memory follows and blocks. */
export async function openLiveFixture(
  kind: DatabaseKind,
  settings: { endGraceMs?: number } = {},
): Promise<LiveFixture> {
  const dbs = await openTestDatabases(kind);
  const logger = createLogger('silent');
  const database = await dbs.provider.open<LiveTables>('live');
  await runMigrations(database, LIVE_MIGRATIONS_DIR, logger);
  const blobRoot = mkdtempSync(path.join(tmpdir(), 'nova-live-blobs-'));
  const follows = new Set<string>();
  const blocks = new Set<string>();
  const published: LiveFixture['published'] = [];
  const channels: ChannelDefinition[] = [];
  const realtime: Realtime = {
    register: (channel) => void channels.push(channel),
    async publish(target, frame) {
      published.push({ target, frame });
    },
    get presence(): Realtime['presence'] {
      throw new Error('presence is not used by live');
    },
    connections: 0,
  };
  const relationship = (viewerId: string, id: string): Relationship => ({
    userId: id,
    following: follows.has(`${viewerId}>${id}`),
    followRequested: false,
    followedBy: follows.has(`${id}>${viewerId}`),
    blocking: blocks.has(`${viewerId}>${id}`),
    blockedBy: blocks.has(`${id}>${viewerId}`),
    muting: false,
  });
  const realtimeStore = createMemoryStore();
  const securityStore = createMemoryStore();
  const pubsub = createMemoryPubSub();
  const node = (): LiveContext => ({
    database,
    eventLog: NO_EVENT_LOG,
    outbox: createOutboxWriter(assertEventPayload),
    logger,
    settings: {
      rtmp: { port: 1935, host: '127.0.0.1' },
      publicHost: 'live.example',
      endGraceMs: settings.endGraceMs ?? 0,
      recordingRetentionMs: 0,
      chat: { messagesPerMinute: 3, maxLength: CHAT_MAX_LENGTH },
      workDir: path.join(blobRoot, 'work'),
    },
    blobs: createFsBlobStore(blobRoot),
    realtime,
    pubsub,
    realtimeStore,
    securityStore,
    social: {
      async relationships({ viewerId, ids }) {
        return { relationships: [...new Set(ids)].map((id) => relationship(viewerId, id)) };
      },
    },
    nodeId: randomUUID(),
    publicApiUrl: 'https://live.example/api/v1',
    heartbeatMs: 1000,
  });
  return {
    ctx: node(),
    node,
    social: {
      follow: (a, b) => void follows.add(`${a}>${b}`),
      block: (a, b) => void blocks.add(`${a}>${b}`),
    },
    published,
    channels,
    events: (...types) => outboxEvents(database, ...types),
    async close() {
      await dbs.close();
      rmSync(blobRoot, { recursive: true, force: true });
    },
  };
}
