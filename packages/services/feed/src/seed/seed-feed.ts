import { generatePopulation, generatePosts } from '@nova/contracts/seed';
import type { Database, SeedContext, SeedResult } from '@nova/kernel';
import { feedSettings } from '../config.js';
import type { FeedTables } from '../store/tables.js';
import { loadReadModel } from './load-read-model.js';

/** `nova seed`: the feed's read model of the shared population (the follows social loads, the posts content loads). */
export async function seedFeed({ config, database, options, progress }: SeedContext): Promise<SeedResult> {
  const population = generatePopulation({
    users: options.users,
    seed: options.seed,
    avgFollows: options.follows / options.users,
  });
  const posts = generatePosts(population, { posts: options.posts, endMs: options.postsEndMs });
  const bar = progress('feed read model', population.followCount + posts.count);
  try {
    const result = await loadReadModel(database as Database<FeedTables>, population, posts, {
      celebrityFollowers: feedSettings(config).celebrityFollowers,
      postgresUrl: config.database.urls.feed ?? config.database.defaultUrl,
      onProgress: (done, total) => bar.update(done, total),
    });
    return {
      summary: `feed read model: ${result.follows} follows, ${result.posts} posts, ${result.celebrities} celebrities merged at read time`,
    };
  } finally {
    bar.done();
  }
}
