import { createECDH } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ConsumerTestBed } from '@nova/kernel/testing';
import type { NotificationsContext, SocialReads } from '../../src/context.js';
import { systemResolver } from '../../src/push/public-address.js';
import type { NotificationsTables } from '../../src/store/tables.js';
import { SocialStandIn } from './start-notifications.js';

/** The service's context over a consumer test bed (no HTTP, no sockets). */
export async function contextOver(bed: ConsumerTestBed<NotificationsTables>): Promise<NotificationsContext> {
  const vapid = createECDH('prime256v1');
  vapid.generateKeys();
  return {
    database: bed.database,
    eventLog: bed.eventLog,
    realtime: { publish: async () => undefined },
    social: new SocialStandIn().api as unknown as SocialReads,
    logger: bed.logger,
    settings: {
      groupWindowMs: 86_400_000,
      retentionMs: 90 * 86_400_000,
      dataDir: await mkdtemp(path.join(os.tmpdir(), 'nova-notifications-')),
      push: {
        vapid: { subject: 'mailto:test@example.com', keys: undefined },
        insecureEndpoints: true,
        timeoutMs: 2000,
        maxAttempts: 3,
        ttlSeconds: 60,
      },
    },
    vapid: {
      subject: 'mailto:test@example.com',
      publicKey: vapid.getPublicKey().toString('base64url'),
      privateKey: vapid.getPrivateKey().toString('base64url'),
    },
    resolveHost: systemResolver,
    fetch: globalThis.fetch,
  };
}
