import { ForbiddenError, inTransaction, toIso, UnprocessableError } from '@nova/kernel';
import { forgetContentAfterCommit } from '../cache/content-cache.js';
import type { ContentContext } from '../context.js';
import { newId } from '../domain/ids.js';
import { COMMENT_TEXT_MAX, textLength } from '../domain/post-rules.js';
import { commentNotFound, postNotFound } from '../domain/visibility.js';
import { contentEvent } from '../events.js';
import type { CommentView, PostQueries } from '../queries/post-queries.js';
import { commentRepository } from '../store/comment-repository.js';
import { likeRepository } from '../store/like-repository.js';
import { postRepository } from '../store/post-repository.js';

/** Likes and comments. Acting on a post needs seeing it (visibility and blocks, both ways). */
export function createInteractionCommands(ctx: ContentContext, queries: PostQueries) {
  const { database, outbox } = ctx;
  const forgetLike = (userId: string, postId: string) =>
    forgetContentAfterCommit(ctx.cache, ctx.logger, { posts: [postId], likes: [[userId, postId]] });
  const forgetPost = (postId: string) => forgetContentAfterCommit(ctx.cache, ctx.logger, { posts: [postId] });

  return {
    /** Idempotent: a second like changes nothing and emits nothing. */
    async like(userId: string, postId: string): Promise<void> {
      const post = await queries.getPost(postId, userId);
      await inTransaction(database, async (tx) => {
        if (!(await postRepository.lockLive(tx, postId))) throw postNotFound();
        if (!(await likeRepository.add(tx, postId, userId))) return;
        await postRepository.adjustCounts(tx, postId, { likes: 1 });
        await outbox.write(tx, [
          contentEvent.like('like.created', { postId, postAuthorId: post.authorId, userId }),
        ]);
      });
      await forgetLike(userId, postId);
    },

    /** Idempotent; works while the post exists, even if the post is no longer visible to the user. */
    async unlike(userId: string, postId: string): Promise<void> {
      await inTransaction(database, async (tx) => {
        const post = await postRepository.lockLive(tx, postId);
        if (!post) throw postNotFound();
        if (!(await likeRepository.remove(tx, postId, userId))) return;
        await postRepository.adjustCounts(tx, postId, { likes: -1 });
        await outbox.write(tx, [
          contentEvent.like('like.removed', { postId, postAuthorId: post.author_id, userId }),
        ]);
      });
      await forgetLike(userId, postId);
    },

    /** A comment, or a reply to a top-level comment of the same post (one level). */
    async comment(
      authorId: string,
      postId: string,
      input: { text: string; parentId?: string },
    ): Promise<CommentView> {
      if (input.text.trim() === '' || textLength(input.text) > COMMENT_TEXT_MAX)
        throw new UnprocessableError('invalid_comment', `A comment has 1 to ${COMMENT_TEXT_MAX} characters.`);
      const post = await queries.getPost(postId, authorId);
      const row = await inTransaction(database, async (tx) => {
        if (!(await postRepository.lockLive(tx, postId))) throw postNotFound();
        const parentId = input.parentId ?? null;
        if (parentId !== null) {
          const parent = await commentRepository.findById(tx, parentId, true);
          if (!parent || parent.post_id !== postId) throw commentNotFound();
          if (parent.parent_id !== null)
            throw new UnprocessableError('reply_to_reply', 'Replies go to top-level comments only.');
          await commentRepository.adjustReplies(tx, parentId, 1);
        }
        const comment = await commentRepository.insert(tx, {
          id: newId(),
          postId,
          authorId,
          parentId,
          text: input.text,
        });
        await postRepository.adjustCounts(tx, postId, { comments: 1 });
        await outbox.write(tx, [
          contentEvent.commentCreated({
            commentId: comment.id,
            postId,
            postAuthorId: post.authorId,
            authorId,
            parentId,
            createdAt: toIso(comment.created_at),
          }),
        ]);
        return comment;
      });
      await forgetPost(postId);
      const { profiles } = await ctx.social.getProfiles({ ids: [authorId] });
      const author = profiles[0];
      if (!author) throw postNotFound();
      return {
        id: row.id,
        postId,
        parentId: row.parent_id,
        author,
        text: row.text,
        replyCount: 0,
        createdAt: toIso(row.created_at),
      };
    },

    /** By the comment's author or the post's author; its replies go with it. */
    async deleteComment(actorId: string, commentId: string): Promise<void> {
      const postId = await inTransaction(database, async (tx) => {
        // Lock order as in comment(): the post, then the comment.
        const found = await commentRepository.findById(tx, commentId);
        const post = found && (await postRepository.lockLive(tx, found.post_id));
        const comment = post && (await commentRepository.findById(tx, commentId, true));
        if (!post || !comment) throw commentNotFound();
        if (comment.author_id !== actorId && post.author_id !== actorId)
          throw new ForbiddenError(
            'not_comment_author',
            'Only its author or the post’s author may delete this.',
          );
        const removed = await commentRepository.deleteWithReplies(tx, commentId);
        if (comment.parent_id) await commentRepository.adjustReplies(tx, comment.parent_id, -1);
        await postRepository.adjustCounts(tx, comment.post_id, { comments: -removed.length });
        await outbox.write(
          tx,
          removed.map((c) =>
            contentEvent.commentDeleted({ commentId: c.id, postId: comment.post_id, authorId: c.author_id }),
          ),
        );
        return comment.post_id;
      });
      await forgetPost(postId);
    },
  };
}

export type InteractionCommands = ReturnType<typeof createInteractionCommands>;
