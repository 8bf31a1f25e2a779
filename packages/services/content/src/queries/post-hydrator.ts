import type { Post, PostMedia, Profile, Relationship } from '@nova/contracts';
import { toIso, toIsoOrNull } from '@nova/kernel';
import { type CachedPost, likeKey } from '../cache/content-cache.js';
import type { ContentContext } from '../context.js';
import { maySee } from '../domain/visibility.js';
import { likeRepository } from '../store/like-repository.js';
import type { PostWithMedia } from '../store/post-repository.js';

/** How the viewer sees a set of authors: their profiles (absent: gone or blocked) and relationships. */
export interface AuthorView {
  profiles: Map<string, Profile>;
  relationships: Map<string, Relationship>;
}

/** A post row as read from the database or from the cache (instants as Date or ISO string). */
export type HydratableRow = PostWithMedia | CachedPost;

/**
 * Two sync calls, in parallel, whatever the number of authors: the profiles
 * and, for a logged-in viewer, the relationships — which also say who is
 * blocked either way, so those profiles are dropped here (social answers
 * both from its cache).
 */
export async function viewAuthors(
  ctx: ContentContext,
  authorIds: readonly string[],
  viewerId: string | undefined,
): Promise<AuthorView> {
  const ids = [...new Set(authorIds)];
  const others = ids.filter((id) => id !== viewerId);
  if (ids.length === 0) return { profiles: new Map(), relationships: new Map() };
  const [{ profiles }, relationships] = await Promise.all([
    ctx.social.getProfiles({ ids }),
    viewerId && others.length > 0
      ? ctx.social.relationships({ viewerId, ids: others }).then((r) => r.relationships)
      : Promise.resolve([] as Relationship[]),
  ]);
  const blocked = new Set(relationships.filter((r) => r.blocking || r.blockedBy).map((r) => r.userId));
  return {
    profiles: new Map(profiles.filter((p) => !blocked.has(p.id)).map((p) => [p.id, p])),
    relationships: new Map(relationships.map((r) => [r.userId, r])),
  };
}

export function isVisible(row: HydratableRow, viewerId: string | undefined, view: AuthorView): boolean {
  return (
    row.deleted_at === null &&
    maySee(row.visibility, viewerId, view.profiles.get(row.author_id), view.relationships.get(row.author_id))
  );
}

/** Which of these posts the viewer likes, through the cache (one query for what it misses). */
async function likedBy(
  ctx: ContentContext,
  viewerId: string,
  postIds: readonly string[],
): Promise<Set<string>> {
  const found = await ctx.cache.likes.getMany(
    postIds.map((id) => likeKey(viewerId, id)),
    async (missing) => {
      const ids = missing.map((key) => key.slice(viewerId.length + 1));
      const liked = await likeRepository.likedBy(ctx.database.db, viewerId, ids);
      return new Map(ids.map((id) => [likeKey(viewerId, id), liked.has(id)]));
    },
  );
  return new Set(postIds.filter((id) => found.get(likeKey(viewerId, id)) === true));
}

/**
 * Turns post rows (with their media ids) into the posts the viewer may see,
 * in the rows' order, with author, media, counts and likedByMe. The cost does
 * not grow with the page: the author view (two sync calls, skipped when
 * given), then the viewer's likes (cached or given; one query for the misses) and the
 * media descriptions (the pipeline's one query, only when there is media),
 * in parallel.
 */
export async function hydratePosts(
  ctx: ContentContext,
  rows: readonly HydratableRow[],
  viewerId: string | undefined,
  known?: AuthorView,
  /** The viewer's likes among these posts when already known (a post just created has none). */
  knownLikes?: ReadonlySet<string>,
): Promise<Post[]> {
  const live = rows.filter((r) => r.deleted_at === null);
  if (live.length === 0) return [];
  const view =
    known ??
    (await viewAuthors(
      ctx,
      live.map((r) => r.author_id),
      viewerId,
    ));
  const visible = live.filter((r) => isVisible(r, viewerId, view));
  if (visible.length === 0) return [];
  const allMedia = visible.flatMap((r) => r.media_ids);
  const [liked, media] = await Promise.all([
    knownLikes ??
      (viewerId
        ? likedBy(
            ctx,
            viewerId,
            visible.map((r) => r.id),
          )
        : Promise.resolve(new Set<string>())),
    allMedia.length > 0 ? ctx.media.describe(ctx.database.db, allMedia) : new Map<string, PostMedia>(),
  ]);
  return visible.map((row) => ({
    id: row.id,
    authorId: row.author_id,
    author: view.profiles.get(row.author_id) as Profile,
    text: row.text,
    visibility: row.visibility,
    hashtags: row.hashtags,
    media: row.media_ids.map((id) => media.get(id) ?? { id }),
    likeCount: Number(row.like_count),
    commentCount: Number(row.comment_count),
    likedByMe: liked.has(row.id),
    createdAt: toIso(row.created_at),
    editedAt: toIsoOrNull(row.edited_at),
  }));
}
