import { fromUtf8, utf8 } from '../crypto/bytes.js';
import { EndToEndError } from '../crypto/errors.js';

/**
 * What is encrypted for each device: the text with the conversation and
 * client message id it belongs to. The receiver checks the conversation, so
 * a server that moves an envelope into another conversation of the same
 * device pair is caught.
 */
export interface MessagePayload {
  v: 1;
  conversationId: string;
  clientMessageId: string;
  text: string;
}

export function encodePayload(payload: Omit<MessagePayload, 'v'>): Uint8Array {
  return utf8(JSON.stringify({ v: 1, ...payload }));
}

export function decodePayload(bytes: Uint8Array, expectedConversationId: string): MessagePayload {
  let payload: Partial<MessagePayload>;
  try {
    payload = JSON.parse(fromUtf8(bytes)) as Partial<MessagePayload>;
  } catch {
    throw new EndToEndError('malformed', 'the decrypted payload is not JSON');
  }
  if (payload.v !== 1 || typeof payload.text !== 'string' || typeof payload.clientMessageId !== 'string') {
    throw new EndToEndError('malformed', 'the decrypted payload has an unknown shape');
  }
  if (payload.conversationId !== expectedConversationId) {
    throw new EndToEndError('wrong_conversation', 'the message belongs to another conversation');
  }
  return payload as MessagePayload;
}
