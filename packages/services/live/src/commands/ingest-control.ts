import type { LiveContext } from '../context.js';

/** The pub/sub topic on which a stream's end reaches the process holding its publisher. */
export const INGEST_END_TOPIC = 'live:ingest:end';

/**
 * Tells every process a stream ended, so the one holding its RTMP publish
 * disconnects it now. Fire-and-forget: the holder's lease renewal finds the
 * stream ended within one renewal period anyway.
 */
export async function announceEnd(ctx: LiveContext, streamId: string): Promise<void> {
  await ctx.pubsub.publish(INGEST_END_TOPIC, streamId).catch((error: unknown) => {
    ctx.logger.warn(
      { err: error, streamId },
      'announcing a stream end failed; the lease renewal will catch it',
    );
  });
}
