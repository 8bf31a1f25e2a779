import { generatePopulation, generatePosts } from '@nova/contracts/seed';
import type { Database, SeedContext, SeedResult } from '@nova/kernel';
import type { ContentTables } from '../store/tables.js';
import { loadPosts } from './load-posts.js';

/** `nova seed`: the posts (with tags, likes and comments) of the shared population. */
export async function seedPosts({ config, database, options, progress }: SeedContext): Promise<SeedResult> {
  const population = generatePopulation({
    users: options.users,
    seed: options.seed,
    avgFollows: options.follows / options.users,
  });
  const posts = generatePosts(population, { posts: options.posts, endMs: options.postsEndMs });
  const bar = progress('posts', posts.count + posts.likeTotal + posts.commentTotal);
  try {
    const result = await loadPosts(database as Database<ContentTables>, population, posts, {
      postgresUrl: config.database.urls.content ?? config.database.defaultUrl,
      onProgress: (done, total) => bar.update(done, total),
    });
    if (result.posts === 0) return { summary: 'no posts' };
    return {
      summary: `${result.posts} posts, ${result.likes} likes and ${result.comments} comments (${result.method})`,
    };
  } finally {
    bar.done();
  }
}
