import type { KeyCommands } from '../commands/key-commands.js';
import type { KeyQueries } from '../queries/key-queries.js';

/** What the route files call: the service's commands and queries, built once in index.ts. */
export interface MessagingHandlers {
  keys: KeyCommands;
  queries: KeyQueries;
}
