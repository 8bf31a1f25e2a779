import type { ConversationCommands } from '../commands/conversation-commands.js';
import type { KeyCommands } from '../commands/key-commands.js';
import type { MessageCommands } from '../commands/message-commands.js';
import type { KeyQueries } from '../queries/key-queries.js';
import type { MessagingQueries } from '../queries/messaging-queries.js';

/** What the route files call: the service's commands and queries, built once in index.ts. */
export interface MessagingHandlers {
  keys: KeyCommands;
  queries: KeyQueries;
  conversations: ConversationCommands;
  messages: MessageCommands;
  /** Conversation lists and device histories. */
  reads: MessagingQueries;
}
