import { notifyOnCommit } from '@nova/kernel';
import type { Kysely } from 'kysely';
import type { FeedTables } from './tables.js';

/** NOTIFY channel: a job was queued (delivered when its transaction commits). */
export const FANOUT_CHANNEL = 'nova_feed_fanout';

type Db = Kysely<FeedTables>;

export interface FanoutJob {
  postId: string;
  authorId: string;
  createdAt: Date;
  afterFollower: string | null;
}

/** The durable queue of posts still to push into followers' timelines. */
export const fanoutRepository = {
  async enqueue(db: Db, job: { postId: string; authorId: string; createdAt: string }): Promise<void> {
    await db
      .insertInto('fanout_jobs')
      .values({
        post_id: job.postId,
        author_id: job.authorId,
        created_at: job.createdAt,
        after_follower: null,
      })
      .onConflict((c) => c.doNothing())
      .execute();
    // Wakes the fan-out worker at commit instead of at its next poll (one
    // wake-up per transaction however many posts its batch queued).
    await notifyOnCommit(db, FANOUT_CHANNEL);
  },

  /**
   * The oldest queued jobs, locked for this transaction; jobs another worker
   * holds are skipped, so replicas share the queue.
   */
  async claim(db: Db, limit: number): Promise<FanoutJob[]> {
    const rows = await db
      .selectFrom('fanout_jobs')
      .select(['post_id', 'author_id', 'created_at', 'after_follower'])
      .orderBy('enqueued_at')
      .orderBy('post_id')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    return rows.map((r) => ({
      postId: r.post_id,
      authorId: r.author_id,
      createdAt: new Date(r.created_at),
      afterFollower: r.after_follower,
    }));
  },

  /** Moves a job past the followers done; it goes to the back of the queue so others get a turn. */
  async advance(db: Db, postId: string, afterFollower: string): Promise<void> {
    await db
      .updateTable('fanout_jobs')
      .set({ after_follower: afterFollower, enqueued_at: new Date() })
      .where('post_id', '=', postId)
      .execute();
  },

  async finish(db: Db, postId: string): Promise<void> {
    await db.deleteFrom('fanout_jobs').where('post_id', '=', postId).execute();
  },

  async pending(db: Db): Promise<number> {
    const row = await db
      .selectFrom('fanout_jobs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  },
};
