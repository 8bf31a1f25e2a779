import type { Post } from '@nova/contracts';
import { ConflictError, ForbiddenError, inTransaction, toIso } from '@nova/kernel';
import type { Transaction } from 'kysely';
import { forgetContentAfterCommit } from '../cache/content-cache.js';
import type { ContentContext } from '../context.js';
import { newId } from '../domain/ids.js';
import { assertPostContent, extractHashtags, extractMentions } from '../domain/post-rules.js';
import { postNotFound, type Visibility } from '../domain/visibility.js';
import { contentEvent } from '../events.js';
import { hydratePosts } from '../queries/post-hydrator.js';
import type { PostQueries } from '../queries/post-queries.js';
import { postPartsRepository } from '../store/post-parts-repository.js';
import { type PostRow, postRepository } from '../store/post-repository.js';
import type { ContentTables } from '../store/tables.js';

export interface NewPost {
  text?: string;
  mediaIds?: string[];
  visibility?: Visibility;
}

const notAuthor = () => new ForbiddenError('not_post_author', 'Only the author may change this post.');

export function createPostCommands(ctx: ContentContext, queries: PostQueries) {
  const { database, outbox } = ctx;
  const forgetPost = (postId: string, authorId?: string) =>
    forgetContentAfterCommit(ctx.cache, ctx.logger, { posts: [postId], authors: authorId ? [authorId] : [] });

  /** Accounts the text mentions, resolved by social in one call; the author's own name is no mention. */
  const mentionedIds = async (text: string, authorId: string): Promise<string[]> => {
    const usernames = extractMentions(text);
    if (usernames.length === 0) return [];
    const { users } = await ctx.social.resolveUsernames({ usernames });
    return users.map((u) => u.id).filter((id) => id !== authorId);
  };

  /**
   * Before the transaction (PGlite has one connection: nothing may read
   * outside a transaction while it is open): 404 when the post is gone or the
   * actor may not see it, 403 when it is someone else's.
   */
  const assertOwn = async (actorId: string, postId: string): Promise<void> => {
    const [row] = await postRepository.findByIds(database.db, [postId]);
    if (!row || row.deleted_at !== null) throw postNotFound();
    if (row.author_id === actorId) return;
    await queries.getPost(postId, actorId);
    throw notAuthor();
  };

  /** The live post, locked; the author cannot change, so assertOwn's answer still holds. */
  const lockOwn = async (tx: Transaction<ContentTables>, postId: string): Promise<PostRow> => {
    const row = await postRepository.lockLive(tx, postId);
    if (!row) throw postNotFound();
    return row;
  };

  return {
    async create(authorId: string, input: NewPost): Promise<Post> {
      const text = input.text ?? '';
      const mediaIds = input.mediaIds ?? [];
      assertPostContent(text, mediaIds);
      const hashtags = extractHashtags(text);
      const [mentions, { profiles }] = await Promise.all([
        mentionedIds(text, authorId),
        ctx.social.getProfiles({ ids: [authorId] }),
      ]);
      // Right after sign-up social may not have the profile yet: a post now could not be shown.
      const [profile] = profiles;
      if (!profile)
        throw new ConflictError('profile_pending', 'Your profile is being set up; try again in a moment.');
      const row = await inTransaction(database, async (tx) => {
        const post = await postRepository.insert(tx, {
          id: newId(),
          authorId,
          text,
          visibility: input.visibility ?? 'public',
          hashtags,
        });
        await ctx.media.assertAttachable(tx, authorId, mediaIds);
        await postPartsRepository.attachMedia(tx, post.id, mediaIds);
        const mentioned = await postPartsRepository.addMentions(tx, post.id, authorId, mentions);
        await outbox.write(tx, [
          contentEvent.postCreated({
            postId: post.id,
            authorId,
            visibility: post.visibility,
            hashtags,
            mediaIds,
            createdAt: toIso(post.created_at),
          }),
          ...mentioned.map((id) =>
            contentEvent.mentionCreated({ postId: post.id, authorId, mentionedUserId: id }),
          ),
        ]);
        return post;
      });
      // The author's newest posts changed: their cached first pages go.
      await forgetContentAfterCommit(ctx.cache, ctx.logger, { authors: [authorId] });
      // The author reads their own post: the profile asked for above is the
      // whole author view (no relationship to oneself); nobody has liked a
      // post that did not exist a moment ago: no likes lookup.
      const [created] = await hydratePosts(
        ctx,
        [{ ...row, media_ids: mediaIds }],
        authorId,
        { profiles: new Map([[authorId, profile]]), relationships: new Map() },
        new Set(),
      );
      return created ?? queries.getPost(row.id, authorId);
    },

    /** The author replaces the text; the replaced text joins the history. */
    async edit(actorId: string, postId: string, text: string): Promise<Post> {
      const hashtags = extractHashtags(text);
      await assertOwn(actorId, postId);
      const mentions = await mentionedIds(text, actorId);
      await inTransaction(database, async (tx) => {
        const current = await lockOwn(tx, postId);
        const media = await postPartsRepository.mediaOf(tx, [postId]);
        assertPostContent(text, media.get(postId) ?? []);
        if (text === current.text) return;
        const now = new Date();
        await postPartsRepository.addVersion(tx, postId, {
          text: current.text,
          writtenAt: current.edited_at ?? current.created_at,
          replacedAt: now,
        });
        await postRepository.updateText(tx, postId, { text, hashtags, editedAt: now });
        await postPartsRepository.replaceHashtags(
          tx,
          { id: postId, authorId: actorId, createdAt: current.created_at },
          hashtags,
        );
        const mentioned = await postPartsRepository.addMentions(tx, postId, actorId, mentions);
        await outbox.write(tx, [
          contentEvent.postUpdated({ postId, authorId: actorId, hashtags, editedAt: now.toISOString() }),
          ...mentioned.map((id) =>
            contentEvent.mentionCreated({ postId, authorId: actorId, mentionedUserId: id }),
          ),
        ]);
      });
      await forgetPost(postId);
      return queries.getPost(postId, actorId);
    },

    /** Soft delete by the author: every read answers 404 from now on. */
    async remove(actorId: string, postId: string): Promise<void> {
      await assertOwn(actorId, postId);
      await inTransaction(database, async (tx) => {
        await lockOwn(tx, postId);
        const now = new Date();
        await postRepository.softDelete(tx, postId, now);
        await postPartsRepository.replaceHashtags(tx, { id: postId, authorId: actorId, createdAt: now }, []);
        await outbox.write(tx, [
          contentEvent.postDeleted({ postId, authorId: actorId, deletedAt: now.toISOString() }),
        ]);
      });
      await forgetPost(postId, actorId);
    },
  };
}

export type PostCommands = ReturnType<typeof createPostCommands>;
