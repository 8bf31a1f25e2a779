import type { StreamCommands } from '../commands/stream-commands.js';
import type { StreamQueries } from '../queries/stream-queries.js';

/** The live service's commands and queries, built once in init and handed to the routes. */
export interface LiveHandlers {
  streams: StreamCommands;
  queries: StreamQueries;
}
