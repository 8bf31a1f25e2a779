import { generatePopulation, generatePosts } from '@nova/contracts/seed';
import type { Database, SeedContext, SeedResult } from '@nova/kernel';
import type { SocialTables } from '../store/tables.js';
import { loadSocialGraph } from './load-graph.js';

/** `nova seed`: the profiles and the power-law follow graph of the shared population. */
export async function seedGraph({ config, database, options, progress }: SeedContext): Promise<SeedResult> {
  const population = generatePopulation({
    users: options.users,
    seed: options.seed,
    avgFollows: options.follows / options.users,
  });
  // postCount of each profile: the posts content's seed hook loads.
  const postCounts = generatePosts(population, {
    posts: options.posts,
    endMs: options.postsEndMs,
  }).postCounts();
  const bar = progress('graph', options.users + population.followCount);
  try {
    const result = await loadSocialGraph(database as Database<SocialTables>, population, {
      postgresUrl: config.database.urls.social ?? config.database.defaultUrl,
      postCounts,
      onProgress: (done, total) => bar.update(done, total),
    });
    return { summary: `${result.users} profiles and ${result.follows} follows (${result.method})` };
  } finally {
    bar.done();
  }
}
