import { counter, createScheduledJob, gauge, type Worker } from '@nova/kernel';
import type { FeedContext } from '../context.js';
import { FANOUT_CHANNEL, fanoutRepository } from '../store/fanout-repository.js';
import { graphRepository } from '../store/graph-repository.js';

/** Jobs one transaction claims; each gets one bounded step, so one large author cannot hold the queue. */
const JOBS_PER_ROUND = 16;

/**
 * Pushes queued posts into followers' timelines after the post committed.
 * Each round claims the oldest jobs (SKIP LOCKED: replicas share the queue)
 * and gives each one step of at most FEED_FANOUT_BATCH followers; a job with
 * followers left goes to the back of the queue. Only active followers with a
 * built (or building) timeline receive the post: idle ones are rebuilt when
 * they return. A celebrity's post reaches only the author's own timeline.
 * Receivers' cached pages are voided with the push. A cache failure rolls
 * the round back; the jobs wait for the next poll. A queued job's NOTIFY
 * wakes the worker at its commit, so a post does not wait for the poll.
 */
export function createFanoutWorker(ctx: FeedContext): Worker {
  const pushed = counter(ctx.metrics, {
    name: 'nova_feed_fanout_writes_total',
    help: 'Timeline writes made by fan-out (one per follower timeline that received a post).',
  });
  const steps = counter(ctx.metrics, {
    name: 'nova_feed_fanout_steps_total',
    help: 'Bounded fan-out steps (at most FEED_FANOUT_BATCH followers each).',
  });
  const backlog = gauge(ctx.metrics, {
    name: 'nova_feed_fanout_backlog',
    help: 'Posts whose fan-out has not finished.',
  });
  const { fanoutBatch, inactiveMs, celebrityFollowers } = ctx.settings;

  async function round(): Promise<number> {
    // Not inTransaction: a retried round would repeat its (idempotent) cache writes for nothing.
    return ctx.database.transaction(async (tx) => {
      const jobs = await fanoutRepository.claim(tx, JOBS_PER_ROUND);
      for (const job of jobs) {
        const entry = { postId: job.postId, createdAtMs: job.createdAt.getTime() };
        const deliver = async (userIds: readonly string[]) => {
          const received = await ctx.timelines.pushToMany(userIds, entry);
          // A cached page of a receiver no longer shows the newest posts.
          await ctx.pages.invalidate(received);
          pushed.inc(received.length);
        };
        if (job.afterFollower === null) await deliver([job.authorId]);
        const celebrity = (await graphRepository.followerCount(tx, job.authorId)) >= celebrityFollowers;
        const step = celebrity
          ? { followers: [], last: null }
          : await graphRepository.activeFollowers(
              tx,
              job.authorId,
              job.afterFollower,
              fanoutBatch,
              new Date(Date.now() - inactiveMs),
            );
        await deliver(step.followers);
        steps.inc();
        if (step.last) await fanoutRepository.advance(tx, job.postId, step.last);
        else await fanoutRepository.finish(tx, job.postId);
      }
      return jobs.length;
    });
  }

  const job = createScheduledJob({
    name: 'feed.fanout',
    intervalMs: ctx.settings.fanoutPollMs,
    runOnStart: true,
    logger: ctx.logger,
    async run(signal) {
      while (!signal.aborted && (await round()) > 0) {
        // Drain while there is work; the interval applies once the queue is empty.
      }
      backlog.set(await fanoutRepository.pending(ctx.database.db));
    },
  });
  let unlisten: (() => Promise<void>) | undefined;
  return {
    ...job,
    async start() {
      // A queued post is pushed at its commit; the poll stays for what a lost notification leaves.
      unlisten = await ctx.database
        .listen?.(FANOUT_CHANNEL, () => job.wake())
        .catch((error: unknown) => {
          ctx.logger.warn({ err: error }, 'fan-out wake-up unavailable; polling only');
          return undefined;
        });
      await job.start();
    },
    async stop(until) {
      await unlisten?.().catch(() => undefined);
      await job.stop(until);
    },
  };
}
