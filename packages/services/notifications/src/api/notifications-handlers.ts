import type { InboxCommands } from '../commands/inbox-commands.js';
import type { InboxQueries } from '../queries/inbox-queries.js';

/** What the route files call: the service's commands and queries, built once in index.ts. */
export interface NotificationsHandlers {
  inbox: InboxCommands;
  queries: InboxQueries;
}
