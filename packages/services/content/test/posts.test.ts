import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
} from '@nova/kernel';
import { DATABASE_KINDS, expectError } from '@nova/kernel/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/domain/ids.js';
import { type ContentFixture, openContentFixture } from './support/fixture.js';

describe.each(DATABASE_KINDS)('posts on %s', (kind) => {
  let f: ContentFixture;
  beforeAll(async () => {
    f = await openContentFixture(kind);
  });
  afterAll(async () => {
    await f?.close();
  });

  it('publishes a post with its hashtags and mentions, and emits post.created and mention.created', async () => {
    const author = f.social.addUser();
    const named = f.social.addUser({ username: 'Mentioned_One' });
    const post = await f.content.posts.create(author, {
      text: 'Hello #Nova #ÉTÉ and #nova again, @mentioned_one @nobody_here',
      visibility: 'public',
    });
    expect(post).toMatchObject({
      authorId: author,
      hashtags: ['nova', 'été'],
      likeCount: 0,
      commentCount: 0,
      likedByMe: false,
      editedAt: null,
      media: [],
    });
    expect(post.author.id).toBe(author);
    expect(await f.content.queries.getPost(post.id, undefined)).toEqual({ ...post });
    const created = await f.events('post.created');
    expect(created.find((e) => e.payload.postId === post.id)).toMatchObject({
      aggregateid: author,
      payload: { authorId: author, visibility: 'public', hashtags: ['nova', 'été'], mediaIds: [] },
    });
    const mentions = (await f.events('mention.created')).filter((e) => e.payload.postId === post.id);
    expect(mentions).toEqual([
      {
        type: 'mention.created',
        aggregateid: named,
        payload: { postId: post.id, authorId: author, mentionedUserId: named },
      },
    ]);
  });

  it('creates a post in one transaction of two statements and one call to social (the bulk of POST /posts)', async () => {
    const author = f.social.addUser();
    await f.content.posts.create(author, { text: 'warm-up' });
    const [queries, calls] = [f.database.stats.queries, f.social.calls];
    const post = await f.content.posts.create(author, { text: 'counted #cost' });
    // BEGIN, the post with its hashtag rows, the outbox row, COMMIT; the
    // author's profile is asked once (and reused to hydrate the answer).
    expect(f.database.stats.queries - queries).toBe(4);
    expect(f.social.calls - calls).toBe(1);
    expect(post.author?.id).toBe(author);
  });

  it('refuses empty, oversized and media posts (until media lands) without writing anything', async () => {
    const author = f.social.addUser();
    await expectError(f.content.posts.create(author, { text: '   ' }), UnprocessableError, 'empty_post');
    await expectError(f.content.posts.create(author, { text: 'x'.repeat(2201) }), ValidationError);
    // 2,200 characters counted as a reader does: astral emoji are one each.
    expect((await f.content.posts.create(author, { text: '😀'.repeat(2200) })).text).toHaveLength(4400);
    await expectError(
      f.content.posts.create(author, { text: 'pic', mediaIds: ['m1'] }),
      UnprocessableError,
      'media_not_found',
    );
    // An account social has no profile for yet (just signed up): 409, nothing written.
    await expectError(
      f.content.posts.create(newId(), { text: 'too early' }),
      ConflictError,
      'profile_pending',
    );
    const page = await f.content.queries.authorPosts(author, author, undefined, 20);
    expect(page.items).toHaveLength(1);
  });

  it('applies visibility to every reader: public / followers / private × author, follower, stranger, blocked, logged out', async () => {
    const author = f.social.addUser();
    const follower = f.social.addUser();
    const stranger = f.social.addUser();
    const blocked = f.social.addUser();
    const blocker = f.social.addUser();
    f.social.follow(follower, author);
    f.social.follow(blocked, author);
    f.social.follow(blocker, author);
    f.social.block(author, blocked);
    f.social.block(blocker, author);
    const posts = {
      public: await f.content.posts.create(author, { text: 'for all', visibility: 'public' }),
      followers: await f.content.posts.create(author, { text: 'for followers', visibility: 'followers' }),
      private: await f.content.posts.create(author, { text: 'for me', visibility: 'private' }),
    };
    const expected: Record<string, Record<keyof typeof posts, boolean>> = {
      author: { public: true, followers: true, private: true },
      follower: { public: true, followers: true, private: false },
      stranger: { public: true, followers: false, private: false },
      blocked: { public: false, followers: false, private: false },
      blocker: { public: false, followers: false, private: false },
      anonymous: { public: true, followers: false, private: false },
    };
    const viewers: Record<string, string | undefined> = {
      author,
      follower,
      stranger,
      blocked,
      blocker,
      anonymous: undefined,
    };
    for (const [who, viewerId] of Object.entries(viewers)) {
      for (const [visibility, post] of Object.entries(posts) as [keyof typeof posts, { id: string }][]) {
        const seen = await f.content.queries.getPost(post.id, viewerId).then(
          () => true,
          (e: unknown) => {
            expect(e).toBeInstanceOf(NotFoundError);
            return false;
          },
        );
        expect(`${who} ${visibility} ${seen}`).toBe(`${who} ${visibility} ${expected[who]?.[visibility]}`);
      }
      const batch = await f.content.queries.getPosts(
        Object.values(posts).map((p) => p.id),
        viewerId,
      );
      const page = await f.content.queries
        .authorPosts(viewerId, author, undefined, 20)
        .catch(() => ({ items: [] }));
      const visible = Object.entries(expected[who] ?? {})
        .filter(([, v]) => v)
        .map(([k]) => posts[k as keyof typeof posts].id);
      expect(batch.map((p) => p.id)).toEqual(visible);
      expect(page.items.map((p) => p.id).sort()).toEqual([...visible].sort());
    }
    // The author page of a blocked pair is a 404, like the profile.
    await expectError(
      f.content.queries.authorPosts(blocked, author, undefined, 20),
      NotFoundError,
      'user_not_found',
    );
  });

  it('keeps a private account’s posts for its followers, whatever their visibility', async () => {
    const author = f.social.addUser({ isPrivate: true });
    const follower = f.social.addUser();
    f.social.follow(follower, author);
    const post = await f.content.posts.create(author, { text: 'public post of a private account' });
    expect((await f.content.queries.getPost(post.id, follower)).id).toBe(post.id);
    await expectError(
      f.content.queries.getPost(post.id, f.social.addUser()),
      NotFoundError,
      'post_not_found',
    );
    await expectError(f.content.queries.getPost(post.id, undefined), NotFoundError, 'post_not_found');
  });

  it('edits keep the history, newest first, with editedAt; only the author edits', async () => {
    const author = f.social.addUser();
    const other = f.social.addUser();
    const named = f.social.addUser({ username: 'later_named' });
    const post = await f.content.posts.create(author, { text: 'v1 #old' });
    const v2 = await f.content.posts.edit(author, post.id, 'v2 #new @later_named');
    expect(v2).toMatchObject({ text: 'v2 #new @later_named', hashtags: ['new'] });
    expect(v2.editedAt).not.toBeNull();
    await f.content.posts.edit(author, post.id, 'v3 @later_named');
    const history = await f.content.queries.history(other, post.id, undefined, 1);
    expect(history.items.map((v) => [v.version, v.text])).toEqual([[2, 'v2 #new @later_named']]);
    const rest = await f.content.queries.history(other, post.id, history.nextCursor ?? undefined, 10);
    expect(rest).toMatchObject({
      items: [{ version: 1, text: 'v1 #old', writtenAt: post.createdAt }],
      nextCursor: null,
    });
    expect((await f.content.queries.hashtagPosts(undefined, 'old', undefined, 10)).items).toEqual([]);
    expect((await f.content.queries.hashtagPosts(undefined, 'NEW', undefined, 10)).items).toEqual([]);
    // One mention event per (post, account), however often the edits repeat it.
    expect((await f.events('mention.created')).filter((e) => e.payload.postId === post.id)).toHaveLength(1);
    expect((await f.events('mention.created')).at(-1)?.payload.mentionedUserId).toBe(named);
    expect((await f.events('post.updated')).filter((e) => e.payload.postId === post.id)).toHaveLength(2);
    await expectError(f.content.posts.edit(other, post.id, 'hijack'), ForbiddenError, 'not_post_author');
    const hidden = await f.content.posts.create(author, { text: 'mine', visibility: 'private' });
    await expectError(f.content.posts.edit(other, hidden.id, 'x'), NotFoundError, 'post_not_found');
    await expectError(f.content.posts.edit(author, post.id, ''), UnprocessableError, 'empty_post');
  });

  it('soft-deletes: every read path answers 404 and post.deleted is emitted once', async () => {
    const author = f.social.addUser();
    const post = await f.content.posts.create(author, { text: 'soon gone #ephemeral' });
    await expectError(f.content.posts.remove(f.social.addUser(), post.id), ForbiddenError, 'not_post_author');
    await f.content.posts.remove(author, post.id);
    await expectError(f.content.posts.remove(author, post.id), NotFoundError, 'post_not_found');
    await expectError(f.content.queries.getPost(post.id, author), NotFoundError);
    await expectError(f.content.queries.history(author, post.id, undefined, 5), NotFoundError);
    await expectError(f.content.interactions.like(author, post.id), NotFoundError);
    await expectError(f.content.posts.edit(author, post.id, 'back'), NotFoundError);
    expect((await f.content.queries.authorPosts(author, author, undefined, 5)).items).toEqual([]);
    expect((await f.content.queries.hashtagPosts(author, 'ephemeral', undefined, 5)).items).toEqual([]);
    expect((await f.events('post.deleted')).filter((e) => e.payload.postId === post.id)).toHaveLength(1);
    await expectError(f.content.queries.getPost(newId(), author), NotFoundError);
    await expectError(f.content.queries.getPost('not-a-post-id', author), NotFoundError);
  });

  it('pages an author’s posts and a hashtag’s posts newest first with keyset cursors', async () => {
    const author = f.social.addUser();
    const stranger = f.social.addUser();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const visibility = i % 3 === 1 ? 'followers' : 'public';
      ids.push((await f.content.posts.create(author, { text: `n${i} #Straße`, visibility })).id);
    }
    const collect = async (
      page: (cursor?: string) => Promise<{ items: { id: string }[]; nextCursor: string | null }>,
    ) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) {
        const p = await page(cursor);
        seen.push(...p.items.map((x) => x.id));
        if (!p.nextCursor) return seen;
        cursor = p.nextCursor;
      }
      throw new Error('no last page');
    };
    const newestFirst = [...ids].reverse();
    expect(await collect((c) => f.content.queries.authorPosts(author, author, c, 3))).toEqual(newestFirst);
    const publicOnes = newestFirst.filter((_, i) => (6 - i) % 3 !== 1);
    expect(await collect((c) => f.content.queries.authorPosts(stranger, author, c, 2))).toEqual(publicOnes);
    expect(
      await collect((c) => f.content.queries.hashtagPosts(stranger, 'STRASSE'.toLowerCase(), c, 2)),
    ).toEqual([]);
    expect(await collect((c) => f.content.queries.hashtagPosts(stranger, 'STRAßE', c, 2))).toEqual(
      publicOnes,
    );
    expect(await collect((c) => f.content.queries.hashtagPosts(author, '#straße', c, 4))).toEqual(
      newestFirst,
    );
    await expectError(f.content.queries.authorPosts(author, author, 'bm90LWEtY3Vyc29y', 3), ValidationError);
  });
});
