import type { Post, PostMedia, Profile, Relationship } from '@nova/contracts';
import { toIso, toIsoOrNull } from '@nova/kernel';
import type { ContentContext } from '../context.js';
import { maySee } from '../domain/visibility.js';
import { likeRepository } from '../store/like-repository.js';
import { postPartsRepository } from '../store/post-parts-repository.js';
import type { PostRow } from '../store/post-repository.js';

/** How the viewer sees a set of authors: their profiles (absent: gone or blocked) and relationships. */
export interface AuthorView {
  profiles: Map<string, Profile>;
  relationships: Map<string, Relationship>;
}

/**
 * Two sync calls, in parallel, whatever the number of authors: profiles as
 * social shows them to the viewer (blocked either way and deleted accounts
 * are left out) and, for a logged-in viewer, the relationships.
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
    ctx.social.getProfiles(viewerId ? { ids, viewerId } : { ids }),
    viewerId && others.length > 0
      ? ctx.social.relationships({ viewerId, ids: others }).then((r) => r.relationships)
      : Promise.resolve([] as Relationship[]),
  ]);
  return {
    profiles: new Map(profiles.map((p) => [p.id, p])),
    relationships: new Map(relationships.map((r) => [r.userId, r])),
  };
}

export function isVisible(row: PostRow, viewerId: string | undefined, view: AuthorView): boolean {
  return (
    row.deleted_at === null &&
    maySee(row.visibility, viewerId, view.profiles.get(row.author_id), view.relationships.get(row.author_id))
  );
}

/**
 * Turns post rows into the posts the viewer may see, in the rows' order,
 * with author, media, counts and likedByMe. The cost does not grow with the
 * page: the author view (two sync calls, skipped when given), then post_media
 * and the viewer's likes (two queries, in parallel), then the media
 * descriptions (the pipeline's one query).
 */
export async function hydratePosts(
  ctx: ContentContext,
  rows: readonly PostRow[],
  viewerId: string | undefined,
  known?: AuthorView,
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
  const db = ctx.database.db;
  const ids = visible.map((r) => r.id);
  const [mediaIds, liked] = await Promise.all([
    postPartsRepository.mediaOf(db, ids),
    viewerId ? likeRepository.likedBy(db, viewerId, ids) : Promise.resolve(new Set<string>()),
  ]);
  const allMedia = [...mediaIds.values()].flat();
  const media = allMedia.length > 0 ? await ctx.media.describe(db, allMedia) : new Map<string, PostMedia>();
  return visible.map((row) => ({
    id: row.id,
    authorId: row.author_id,
    author: view.profiles.get(row.author_id) as Profile,
    text: row.text,
    visibility: row.visibility,
    hashtags: row.hashtags,
    media: (mediaIds.get(row.id) ?? []).map((id) => media.get(id) ?? { id }),
    likeCount: Number(row.like_count),
    commentCount: Number(row.comment_count),
    likedByMe: liked.has(row.id),
    createdAt: toIso(row.created_at),
    editedAt: toIsoOrNull(row.edited_at),
  }));
}
