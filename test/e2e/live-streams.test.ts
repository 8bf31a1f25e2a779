import { freePort } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type RunningNova, startNova } from './harness.js';
import { liveWalk } from './live/live-walk.js';

/**
 * Live streams in the all-in-one shape (`nova start`, PGlite, in-process
 * stores): a real ffmpeg publisher over RTMP, HLS, chat and viewer counts.
 */
describe('live streams, all-in-one', () => {
  let nova: RunningNova;
  let rtmpPort: number;

  beforeAll(async () => {
    rtmpPort = await freePort();
    nova = await startNova({
      command: ['node', '--import', 'tsx', 'apps/nova/src/main.ts', 'start'],
      env: {
        ARGON2_MEMORY_KIB: '8192',
        ARGON2_TIME_COST: '1',
        RTMP_PORT: String(rtmpPort),
        LIVE_END_GRACE_SECONDS: '1',
      },
    });
  });
  afterAll(async () => {
    await nova?.stop();
    nova?.cleanup();
  });

  it('ingests, packages, plays, chats and ends', async () => {
    try {
      await liveWalk({ url: nova.url, rtmpPort }, { url: nova.url, rtmpPort }, { followOrder: true });
    } catch (error) {
      console.error(nova.output().slice(-6000)); // the server's side of what went wrong
      throw error;
    }
  }, 300_000);
});
