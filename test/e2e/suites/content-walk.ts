import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  apiCaller,
  E2E_PASSWORD,
  pollUntil,
  readyChecksOf,
  type SignedUp,
  signUp as signUpAt,
} from '../harness.js';
import { deploySuite, type E2eShape } from './shape.js';

type Client = SignedUp;

type Json = Record<string, unknown> & { items?: { id: string }[] };

export function defineContentWalk(shape: E2eShape): void {
  describe(`content over HTTP (${shape.name})`, () => {
    const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
    // On a fresh database, so the walk can check from outside that a deleted account leaves no
    // row in the content schema.
    const suite = deploySuite(shape, { name: 'content' });

    const call = apiCaller<Json>((p, m) => suite.nova.urlFor(p, m));
    const password = E2E_PASSWORD;
    const signUp = (name: string): Promise<Client> =>
      signUpAt((p, method) => suite.nova.urlFor(p, method), `${name}${run}`);
    const postCount = async (who: Client) => (await call('GET', `/users/${who.username}`)).body.postCount;

    it('runs on the shape’s engines', async () => {
      expect((await fetch(suite.nova.urlFor('/health/ready'))).status).toBe(200);
      const checks = await readyChecksOf(suite.nova);
      for (const name of ['db-content', 'db-social', ...(shape.readyChecks ?? [])])
        expect(checks[name]).toMatchObject({ status: 'ok' });
    });

    it('applies the visibility matrix: public / followers / private × follower, stranger, blocked, logged out', async () => {
      const [alice, bob, carol, dave, erin] = await Promise.all(
        ['alice', 'bob', 'carol', 'dave', 'erin'].map(signUp),
      );
      if (!alice || !bob || !carol || !dave || !erin) throw new Error('sign-up failed');
      expect((await call('POST', `/users/${alice.id}/follow`, bob.token)).status).toBe(200);
      expect((await call('POST', `/users/${alice.id}/follow`, dave.token)).status).toBe(200);
      expect((await call('POST', `/users/${dave.id}/block`, alice.token)).status).toBe(204); // alice blocks dave
      expect((await call('POST', `/users/${alice.id}/block`, erin.token)).status).toBe(204); // erin blocks alice
      const posts: Record<string, string> = {};
      for (const visibility of ['public', 'followers', 'private']) {
        const created = await call('POST', '/posts', alice.token, {
          text: `${visibility} #Matrix${run}`,
          visibility,
        });
        expect(created.status).toBe(201);
        posts[visibility] = created.body.id as string;
      }
      const viewers: Record<string, Client | undefined> = {
        author: alice,
        follower: bob,
        stranger: carol,
        blocked: dave,
        blocker: erin,
        'logged out': undefined,
      };
      const expected: Record<string, string[]> = {
        author: ['public', 'followers', 'private'],
        follower: ['public', 'followers'],
        stranger: ['public'],
        blocked: [],
        blocker: [],
        'logged out': ['public'],
      };
      for (const [who, viewer] of Object.entries(viewers)) {
        const seen: string[] = [];
        for (const [visibility, id] of Object.entries(posts)) {
          const answer = await call('GET', `/posts/${id}`, viewer?.token);
          expect([200, 404]).toContain(answer.status);
          if (answer.status === 200) seen.push(visibility);
        }
        expect(`${who}: ${seen.join(',')}`).toBe(`${who}: ${expected[who]?.join(',')}`);
        const page = await call('GET', `/users/${alice.id}/posts`, viewer?.token);
        const listed = page.status === 200 ? (page.body.items ?? []).map((p) => p.id) : [];
        expect(listed.sort()).toEqual((expected[who] ?? []).map((v) => posts[v]).sort());
        const tagged = await call('GET', `/hashtags/matrix${run}/posts`, viewer?.token);
        expect(tagged.status).toBe(200);
        expect((tagged.body.items ?? []).map((p) => p.id).sort()).toEqual(
          (expected[who] ?? []).map((v) => posts[v]).sort(),
        );
      }
      // Acting needs seeing.
      expect((await call('POST', `/posts/${posts.followers}/like`, carol.token)).status).toBe(404);
      expect((await call('POST', `/posts/${posts.public}/comments`, dave.token, { text: 'hi' })).status).toBe(
        404,
      );
      expect((await call('POST', `/posts/${posts.public}/like`, bob.token)).status).toBe(204);
      // postCount on the profile comes from content's events.
      const counted = await pollUntil(
        () => postCount(alice),
        (n) => n === 3,
      );
      expect(counted).toBe(3);
    });

    it('counts parallel posts and deletions of several authors exactly (postCount, author pages)', async () => {
      const authors = await Promise.all(['ria', 'sam', 'tom'].map(signUp));
      const created = await Promise.all(
        authors.flatMap((author) =>
          Array.from({ length: 12 }, (_, i) =>
            call('POST', '/posts', author.token, { text: `race ${i} #race${run}` }).then((r) => {
              expect(r.status).toBe(201);
              return { author, id: r.body.id as string };
            }),
          ),
        ),
      );
      expect(new Set(created.map((c) => c.id)).size).toBe(36);
      // Two of each author's posts deleted while the creations' events are still being counted.
      const deleted = authors.flatMap((author) => created.filter((c) => c.author === author).slice(0, 2));
      const answers = await Promise.all(deleted.map((d) => call('DELETE', `/posts/${d.id}`, d.author.token)));
      expect(answers.map((a) => a.status)).toEqual(deleted.map(() => 204));
      for (const author of authors) {
        const counted = await pollUntil(
          () => postCount(author),
          (n) => n === 10,
        );
        expect(counted).toBe(10);
        const page = await call('GET', `/users/${author.id}/posts?limit=50`, author.token);
        const expected = created
          .filter((c) => c.author === author && !deleted.includes(c))
          .map((c) => c.id)
          .sort();
        expect((page.body.items ?? []).map((p) => p.id).sort()).toEqual(expected);
      }
    });

    it('edits with history, likes and comments, then deletes a post and an account', async () => {
      const [fay, gus, hal] = await Promise.all(['fay', 'gus', 'hal'].map(signUp));
      if (!fay || !gus || !hal) throw new Error('sign-up failed');
      const { body: post } = await call('POST', '/posts', fay.token, { text: `hello @${gus.username}` });
      const id = post.id as string;
      const edited = await call('PATCH', `/posts/${id}`, fay.token, { text: 'hello world #edited' });
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({
        text: 'hello world #edited',
        hashtags: ['edited'],
        editedAt: expect.any(String),
      });
      expect((await call('PATCH', `/posts/${id}`, gus.token, { text: 'mine' })).status).toBe(403);
      await call('PATCH', `/posts/${id}`, fay.token, { text: 'hello again' });
      const history = await call('GET', `/posts/${id}/history`);
      expect(history.status).toBe(200);
      expect((history.body.items as unknown as { text: string }[]).map((v) => v.text)).toEqual([
        'hello world #edited',
        `hello @${gus.username}`,
      ]);

      expect((await call('POST', `/posts/${id}/like`, gus.token)).status).toBe(204);
      expect((await call('POST', `/posts/${id}/like`, gus.token)).status).toBe(204);
      expect((await call('POST', `/posts/${id}/like`, hal.token)).status).toBe(204);
      const top = await call('POST', `/posts/${id}/comments`, gus.token, { text: 'nice' });
      expect(top.status).toBe(201);
      expect(
        (await call('POST', `/posts/${id}/comments`, hal.token, { text: 'agreed', parentId: top.body.id }))
          .status,
      ).toBe(201);
      expect((await call('POST', `/posts/${id}/comments`, fay.token, { text: 'thanks' })).status).toBe(201);
      expect((await call('GET', `/posts/${id}`, gus.token)).body).toMatchObject({
        likeCount: 2,
        commentCount: 3,
        likedByMe: true,
      });
      const { body: gusPost } = await call('POST', '/posts', gus.token, { text: 'gus was here' });

      // Deleting an account removes its posts, likes and comments everywhere.
      expect((await call('DELETE', '/users/me', gus.token, { password })).status).toBe(202);
      const gone = await pollUntil(
        () => call('GET', `/posts/${id}`, fay.token),
        (r) => r.body.likeCount === 1 && r.body.commentCount === 1,
      );
      expect(gone.body).toMatchObject({ likeCount: 1, commentCount: 1 });
      expect((await call('GET', `/posts/${gusPost.id}`, fay.token)).status).toBe(404);
      const comments = await call('GET', `/posts/${id}/comments`, fay.token);
      expect((comments.body.items as unknown as { text: string }[]).map((c) => c.text)).toEqual(['thanks']);
      const db = new pg.Client({ connectionString: suite.databaseUrl('content') });
      await db.connect();
      try {
        const rows = await pollUntil(
          async () => {
            const { rows } = await db.query<{ n: string }>(
              `SELECT (SELECT count(*) FROM content.posts WHERE author_id = $1)
                    + (SELECT count(*) FROM content.likes WHERE user_id = $1)
                    + (SELECT count(*) FROM content.comments WHERE author_id = $1) AS n`,
              [gus.id],
            );
            return Number(rows[0]?.n);
          },
          (n) => n === 0,
        );
        expect(rows).toBe(0);
      } finally {
        await db.end();
      }

      // Deleting a post: 404 for everyone, its author included, and postCount follows.
      expect(
        await pollUntil(
          () => postCount(fay),
          (n) => n === 1,
        ),
      ).toBe(1);
      expect((await call('DELETE', `/posts/${id}`, hal.token)).status).toBe(403);
      expect((await call('DELETE', `/posts/${id}`, fay.token)).status).toBe(204);
      for (const who of [fay, hal, undefined])
        expect((await call('GET', `/posts/${id}`, who?.token)).status).toBe(404);
      expect((await call('GET', `/posts/${id}/comments`, fay.token)).status).toBe(404);
      expect((await call('GET', `/users/${fay.id}/posts`, hal.token)).body.items).toEqual([]);
      expect(
        await pollUntil(
          () => postCount(fay),
          (n) => n === 0,
        ),
      ).toBe(0);
    });
  });
}
