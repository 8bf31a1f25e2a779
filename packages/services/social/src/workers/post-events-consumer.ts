import { CONTENT_POST_TOPIC } from '@nova/contracts';
import { type ConsumeContext, typedConsumer, type Worker } from '@nova/kernel';
import { forgetTouched } from '../cache/social-cache.js';
import type { SocialContext } from '../context.js';
import { postCountChanges, profileRepository } from '../store/profile-repository.js';
import type { SocialTables } from '../store/tables.js';

export const POST_EVENTS_GROUP = 'social.posts';

type Ctx = ConsumeContext<SocialTables>;
type Change = { id: string; delta: number };

/** The changes the typed handlers noted, per batch (each part of a split batch has its own context). */
const noted = new WeakMap<Ctx, Change[]>();
const note = (ctx: Ctx, change: Change) => {
  const changes = noted.get(ctx);
  if (!changes) throw new Error('a post-count change outside a batch');
  changes.push(change);
};

/**
 * Keeps `postCount` of profiles from content's post events (keyed by author,
 * so one account's creations and deletions arrive in order). A batch of
 * events is one transaction and one UPDATE (it was a transaction of four
 * statements per created post, the bulk of social's share of a post's cost);
 * the changes commit with their processed-event records, so a redelivery
 * counts nothing twice.
 */
export function createPostEventsConsumer(ctx: SocialContext): Worker {
  const spec = typedConsumer({
    group: POST_EVENTS_GROUP,
    topics: [CONTENT_POST_TOPIC],
    database: ctx.database,
    batch: { maxEvents: 500 },
    handlers: {
      async 'post.created'({ payload }, batch) {
        note(batch, { id: payload.authorId, delta: 1 });
      },
      async 'post.deleted'({ payload }, batch) {
        note(batch, { id: payload.authorId, delta: -1 });
      },
    },
    // Edits change no count.
    ignore: ['post.updated'],
  });
  return ctx.eventLog.consumer({
    ...spec,
    async handleBatch(events, consume) {
      const batch: Ctx = { ...consume };
      const changes: Change[] = [];
      noted.set(batch, changes);
      try {
        await spec.handleBatch(events, batch);
      } finally {
        noted.delete(batch);
      }
      const counts = postCountChanges(changes);
      await profileRepository.applyPostCountChanges(consume.tx, counts);
      // The cached profiles are invalidated before the commit: their hold outlasts the transaction.
      await forgetTouched(ctx.cache, { profiles: counts.map((c) => c.id) });
    },
  });
}
