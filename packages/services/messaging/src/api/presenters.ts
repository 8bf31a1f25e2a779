import type { DeviceMessage, MemberConversation, StoredMessage } from '../queries/messaging-queries.js';

/** The public shapes of the routes (api/schemas.ts): dates as ISO strings. */
export const present = {
  conversation: (c: MemberConversation) => ({
    id: c.id,
    kind: c.kind,
    memberIds: c.memberIds,
    createdBy: c.createdBy,
    createdAt: c.createdAt.toISOString(),
    lastActivityAt: c.lastActivityAt.toISOString(),
    lastSeq: c.lastSeq,
    readUpTo: c.readUpTo,
  }),
  sentMessage: (m: StoredMessage) => ({ ...m, sentAt: m.sentAt.toISOString() }),
  deviceMessage: (m: DeviceMessage) => ({ ...m, sentAt: m.sentAt.toISOString() }),
};
