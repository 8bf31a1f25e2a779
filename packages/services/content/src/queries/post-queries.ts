import type { Post, Profile } from '@nova/contracts';
import { decodeCursor, encodeCursor, toIso, toIsoOrNull } from '@nova/kernel';
import { AUTHOR_HEAD_SIZE, authorHeadKey, type CachedPost } from '../cache/content-cache.js';
import type { ContentContext } from '../context.js';
import { IdCursor, VersionCursor } from '../domain/cursors.js';
import { normalizeHashtag } from '../domain/post-rules.js';
import {
  commentNotFound,
  postNotFound,
  userNotFound,
  type Visibility,
  visibleKinds,
} from '../domain/visibility.js';
import { commentRepository } from '../store/comment-repository.js';
import { postPartsRepository } from '../store/post-parts-repository.js';
import { type PostRow, type PostWithMedia, postRepository } from '../store/post-repository.js';
import { type HydratableRow, hydratePosts, viewAuthors } from './post-hydrator.js';

export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
}

export interface PostVersion {
  version: number;
  text: string;
  writtenAt: string;
  replacedAt: string;
}

export interface CommentView {
  id: string;
  postId: string;
  parentId: string | null;
  author: Profile;
  text: string;
  replyCount: number;
  createdAt: string;
}

const afterId = (cursor: string | undefined): string | null =>
  cursor ? decodeCursor<IdCursor>(cursor, IdCursor).id : null;

/** A row as the cache keeps it (JSON: instants as ISO strings). */
const toCachedPost = (row: PostWithMedia): CachedPost => ({
  ...row,
  created_at: toIso(row.created_at),
  edited_at: toIsoOrNull(row.edited_at),
  deleted_at: toIsoOrNull(row.deleted_at),
});

// A hashtag page filters candidates by visibility; it reads at most this many rounds before answering.
const HASHTAG_ROUNDS = 5;

export function createPostQueries(ctx: ContentContext) {
  const db = ctx.database.db;

  /** Posts by id through the cache (one query, media ids included, for what it misses). */
  const cachedPosts = (ids: readonly string[]) =>
    ctx.cache.posts.getMany(ids, async (missing) => {
      const rows = await postRepository.findWithMedia(db, missing);
      return new Map(rows.map((r) => [r.id, toCachedPost(r)]));
    });

  const getPosts = async (ids: readonly string[], viewerId: string | undefined): Promise<Post[]> => {
    const byId = await cachedPosts(ids);
    const ordered = [...new Set(ids)].flatMap((id) => byId.get(id) ?? []);
    return hydratePosts(ctx, ordered, viewerId);
  };

  /**
   * A first page of an author's posts from the cached head (ids) and the
   * cached rows; the head is read from the database (one query) when absent.
   */
  const headPage = async (authorId: string, kinds: Visibility[], size: number): Promise<HydratableRow[]> => {
    const key = authorHeadKey(authorId, kinds);
    const heads = await ctx.cache.authorHeads.getMany([key], async () => {
      const rows = await postRepository.authorPage(db, authorId, kinds, null, AUTHOR_HEAD_SIZE);
      return new Map([[key, rows.map((r) => r.id)]]);
    });
    const ids = (heads.get(key) ?? []).slice(0, size);
    const byId = await cachedPosts(ids);
    // Soft-deleted rows stay in the head until its invalidation lands; hydration skips them.
    return ids.flatMap((id) => byId.get(id) ?? []);
  };

  const getPost = async (id: string, viewerId: string | undefined): Promise<Post> => {
    const [post] = await getPosts([id], viewerId);
    if (!post) throw postNotFound();
    return post;
  };

  return {
    getPosts,
    getPost,

    /** The author's posts the viewer may see, newest first; 404 when the author is gone or blocked either way. */
    async authorPosts(
      viewerId: string | undefined,
      authorId: string,
      cursor: string | undefined,
      limit: number,
    ): Promise<ListPage<Post>> {
      const view = await viewAuthors(ctx, [authorId], viewerId);
      const author = view.profiles.get(authorId);
      if (!author) throw userNotFound();
      const kinds = visibleKinds(viewerId, author, view.relationships.get(authorId));
      if (kinds.length === 0) return { items: [], nextCursor: null };
      const rows =
        cursor === undefined && limit < AUTHOR_HEAD_SIZE
          ? await headPage(authorId, kinds, limit + 1)
          : await postRepository.authorPage(db, authorId, kinds, afterId(cursor), limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: await hydratePosts(ctx, page, viewerId, view),
        nextCursor: rows.length > limit && last ? encodeCursor({ id: last.id }) : null,
      };
    },

    /**
     * A hashtag's posts the viewer may see, newest first. Candidates come in
     * index order and are filtered by visibility, a bounded number of rounds
     * per request; the cursor is the last candidate examined.
     */
    async hashtagPosts(
      viewerId: string | undefined,
      rawTag: string,
      cursor: string | undefined,
      limit: number,
    ): Promise<ListPage<Post>> {
      const tag = normalizeHashtag(rawTag.replace(/^#/, ''));
      const items: Post[] = [];
      let after = afterId(cursor);
      const batch = Math.min(100, limit * 2);
      for (let round = 0; round < HASHTAG_ROUNDS; round++) {
        const candidates = await postPartsRepository.hashtagPage(db, tag, after, batch);
        if (candidates.length === 0) return { items, nextCursor: null };
        const visible = new Map(
          (
            await getPosts(
              candidates.map((c) => c.post_id),
              viewerId,
            )
          ).map((p) => [p.id, p]),
        );
        for (const candidate of candidates) {
          after = candidate.post_id;
          const post = visible.get(candidate.post_id);
          if (post) items.push(post);
          if (items.length === limit) return { items, nextCursor: encodeCursor({ id: after }) };
        }
        if (candidates.length < batch) return { items, nextCursor: null };
      }
      return { items, nextCursor: after ? encodeCursor({ id: after }) : null };
    },

    /** Earlier versions of a post the viewer may see, newest first. */
    async history(
      viewerId: string | undefined,
      postId: string,
      cursor: string | undefined,
      limit: number,
    ): Promise<ListPage<PostVersion>> {
      await getPost(postId, viewerId);
      const before = cursor ? decodeCursor<VersionCursor>(cursor, VersionCursor).v : null;
      const rows = await postPartsRepository.versions(db, postId, before, limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page.map((r) => ({
          version: r.version,
          text: r.text,
          writtenAt: toIso(r.written_at),
          replacedAt: toIso(r.replaced_at),
        })),
        nextCursor: rows.length > limit && last ? encodeCursor({ v: last.version }) : null,
      };
    },

    /**
     * Comments of a post the viewer may see, oldest first: the top level, or
     * the replies to `parentId`. Comments of accounts on the other side of a
     * block, or gone, are left out.
     */
    async comments(
      viewerId: string | undefined,
      postId: string,
      parentId: string | undefined,
      cursor: string | undefined,
      limit: number,
    ): Promise<ListPage<CommentView>> {
      await getPost(postId, viewerId);
      if (parentId) {
        const parent = await commentRepository.findById(db, parentId);
        if (!parent || parent.post_id !== postId) throw commentNotFound();
      }
      const rows = await commentRepository.page(db, postId, parentId ?? null, afterId(cursor), limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      // Social leaves out accounts on either side of a block with the viewer, and deleted ones.
      const authorIds = [...new Set(page.map((r) => r.author_id))];
      const { profiles: found } =
        authorIds.length > 0
          ? await ctx.social.getProfiles(viewerId ? { ids: authorIds, viewerId } : { ids: authorIds })
          : { profiles: [] };
      const profiles = new Map(found.map((p) => [p.id, p]));
      return {
        items: page.flatMap((r) => {
          const author = profiles.get(r.author_id);
          if (!author) return [];
          return [
            {
              id: r.id,
              postId: r.post_id,
              parentId: r.parent_id,
              author,
              text: r.text,
              replyCount: Number(r.reply_count),
              createdAt: toIso(r.created_at),
            },
          ];
        }),
        nextCursor: rows.length > limit && last ? encodeCursor({ id: last.id }) : null,
      };
    },
  };
}

export type PostQueries = ReturnType<typeof createPostQueries>;
export type { PostRow };
