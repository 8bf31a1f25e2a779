import type { InteractionCommands } from '../commands/interaction-commands.js';
import type { PostCommands } from '../commands/post-commands.js';
import type { PostQueries } from '../queries/post-queries.js';

/** What the route files call: the service's commands and queries, built once in index.ts. */
export interface ContentHandlers {
  posts: PostCommands;
  interactions: InteractionCommands;
  queries: PostQueries;
}
