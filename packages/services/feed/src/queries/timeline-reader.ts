import { counter } from '@nova/kernel';
import type { FeedContext } from '../context.js';
import { type FeedPosition, isOlderThan } from '../domain/cursors.js';
import { mergeNewestFirst } from '../domain/merge.js';
import { type Candidate, candidateQuery } from '../store/candidate-query.js';
import { entriesBefore } from '../timelines/timeline-cache.js';

/** Where a page's candidates came from: the cached timeline, or the read model directly. */
export type CandidateSource = 'timeline' | 'read_model';

export interface CandidatePage {
  items: Candidate[];
  /** Where the next page starts; null at the end. */
  next: FeedPosition | null;
  source: CandidateSource;
}

/** Extra entries read past a page, so the rules dropping a few still leave a full page. */
const SLACK = 10;

/**
 * The candidate step of the feed pipeline: a newest-first page of posts the
 * viewer may be shown, older than `before`. From the cached timeline merged
 * with the celebrities' posts when the timeline is usable; rebuilt first when
 * it is cold, evicted or of an older version; straight from the read model
 * (the durable truth) when the cache role fails or the timeline ends before
 * the feed does. Every path answers the same posts: never a hole.
 */
export function createTimelineReader(ctx: FeedContext) {
  const rebuilds = counter(ctx.metrics, {
    name: 'nova_feed_timeline_rebuilds_total',
    help: 'Home timelines rebuilt from the read model (cold, evicted, damaged or of an older version).',
  });
  const cacheFailures = counter(ctx.metrics, {
    name: 'nova_feed_cache_failures_total',
    help: 'Feed reads answered from the read model because the cache role failed.',
  });
  const db = ctx.database.db;
  const cap = ctx.settings.timelineCap;

  async function rebuild(userId: string): Promise<void> {
    // The marker first: posts fanned out from now on land in the set; posts before are in the read.
    await ctx.timelines.beginRebuild(userId);
    const source = await candidateQuery.rebuildSource(db, userId, cap);
    await ctx.timelines.completeRebuild(
      userId,
      Number(source.version),
      source.posts,
      source.posts.length < cap,
    );
    rebuilds.inc();
  }

  async function fromReadModel(
    viewerId: string,
    before: FeedPosition | null,
    limit: number,
  ): Promise<CandidatePage> {
    const rows = await candidateQuery.pull(db, viewerId, before, limit + 1);
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    return { items, next: rows.length > limit && last ? last : null, source: 'read_model' };
  }

  /** One attempt from the cache; null when the timeline must be rebuilt first. */
  async function fromTimeline(
    viewerId: string,
    before: FeedPosition | null,
    limit: number,
  ): Promise<CandidatePage | 'rebuild' | 'read_model'> {
    const asked = limit + SLACK;
    const read = await ctx.timelines.read(viewerId, entriesBefore(before?.createdAtMs ?? null, asked));
    if (read.builtVersion === null) return 'rebuild';
    const entries = read.entries.map((e) => ({ postId: e.member, createdAtMs: e.score }));
    const full = entries.length === asked;
    const cut = full ? (entries.at(-1) ?? null) : null;
    // The set ends before the feed does (trimmed at the cap): older pages come from the read model.
    if (!full && !read.complete) return 'read_model';
    if (cut && !isOlderThan(cut, before)) return 'read_model';
    const unseen = entries.filter((e) => isOlderThan(e, before)).map((e) => e.postId);
    const checked = await candidateQuery.check(db, viewerId, unseen, before, limit);
    if (Number(checked.version) !== read.builtVersion) return 'rebuild';
    const mergedLast = checked.merged.at(-1);
    const page = mergeNewestFirst(
      [
        { items: checked.valid, cut },
        { items: checked.merged, cut: checked.merged.length >= limit && mergedLast ? mergedLast : null },
      ],
      before,
      limit,
    );
    return { items: page.items, next: page.next, source: 'timeline' };
  }

  return {
    rebuild,
    /**
     * `active`: the viewer's read being recorded; a rebuild starts only once it is (its failure is
     * the caller's to report), so fan-out already counts the viewer among the active followers.
     */
    async page(
      viewerId: string,
      before: FeedPosition | null,
      limit: number,
      active?: Promise<unknown>,
    ): Promise<CandidatePage> {
      try {
        for (let attempt = 0; attempt < 2; attempt++) {
          const answer = await fromTimeline(viewerId, before, limit);
          if (answer === 'read_model') break;
          if (answer !== 'rebuild') return answer;
          await active?.catch(() => undefined);
          await rebuild(viewerId);
        }
      } catch (error) {
        cacheFailures.inc();
        ctx.logger.warn({ err: error, viewerId }, 'feed read from the read model: the cache role failed');
      }
      return fromReadModel(viewerId, before, limit);
    },
  };
}

export type TimelineReader = ReturnType<typeof createTimelineReader>;
