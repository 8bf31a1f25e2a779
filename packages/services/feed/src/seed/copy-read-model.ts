import type { Population, PostPopulation } from '@nova/contracts/seed';
import { connectRaw, copyLines, copyText, dropStructure, restoreStructure } from '@nova/kernel';

/**
 * The read model by COPY on PostgreSQL, in one transaction: the tables'
 * indexes are dropped for the load and built back by sorting (10M follow
 * edges through batched INSERTs kept two B-trees up to date row by row), and
 * the follower counts and `fanned_out` come from the generated graph in
 * memory rather than a GROUP BY and UPDATE over the loaded rows.
 */
export async function copyReadModel(
  postgresUrl: string,
  schema: string,
  population: Population,
  posts: PostPopulation,
  options: { celebrityFollowers: number; progress(rows: number): void },
): Promise<void> {
  const ids = Array.from({ length: population.options.users }, (_, i) => population.userId(i));
  const { followers } = population.counts();
  const client = await connectRaw(postgresUrl, schema);
  try {
    await client.query('BEGIN');
    const follows = await dropStructure(client, 'follows');
    await copyLines(
      client,
      'COPY follows (follower_id, followee_id) FROM STDIN',
      (function* () {
        for (const chunk of population.followChunks(50_000)) {
          let text = '';
          for (let i = 0; i < chunk.length; i++)
            text += `${ids[chunk.followers[i] as number]}\t${ids[chunk.followees[i] as number]}\n`;
          yield text;
          options.progress(chunk.length);
        }
      })(),
    );
    await restoreStructure(client, 'follows', follows);

    await copyLines(
      client,
      'COPY authors (author_id, follower_count) FROM STDIN',
      (function* () {
        let text = '';
        for (let i = 0; i < ids.length; i++)
          if ((followers[i] ?? 0) > 0) text += `${ids[i]}\t${followers[i]}\n`;
        yield text;
      })(),
    );

    const postsStructure = await dropStructure(client, 'posts');
    await copyLines(
      client,
      'COPY posts (post_id, author_id, created_at, visibility, has_media, hashtags, fanned_out, like_count, comment_count) FROM STDIN',
      (function* () {
        for (const chunk of posts.postChunks(20_000)) {
          let text = '';
          for (const p of chunk) {
            const tags = `{${p.hashtags.map((t) => `"${t.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
            const fannedOut = (followers[p.authorIndex] ?? 0) < options.celebrityFollowers;
            text += `${p.id}\t${ids[p.authorIndex]}\t${new Date(p.createdAtMs).toISOString()}\t${p.visibility}\tf\t${copyText(tags)}\t${fannedOut ? 't' : 'f'}\t${p.likeCount}\t${p.commentCount}\n`;
          }
          yield text;
          options.progress(chunk.length);
        }
      })(),
    );
    await restoreStructure(client, 'posts', postsStructure);
    await client.query('COMMIT');
    // VACUUM, not only ANALYZE: it sets the visibility map of the freshly loaded pages, so the
    // timeline rebuild reads posts_by_author index-only (heap pages per post were most of a cold
    // page at 1M posts) — what autovacuum does after a bulk load, done now rather than minutes later.
    await client.query('VACUUM (ANALYZE) follows, authors, posts');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}
