import type { BlockCommands } from '../commands/block-commands.js';
import type { FollowCommands } from '../commands/follow-commands.js';
import type { ProfileCommands } from '../commands/profile-commands.js';
import type { GraphQueries } from '../queries/graph-queries.js';

/** What the route files call: the service's commands and queries, built once in index.ts. */
export interface SocialHandlers {
  profiles: ProfileCommands;
  follows: FollowCommands;
  blocks: BlockCommands;
  queries: GraphQueries;
}
