import { randomUUID } from 'node:crypto';
import { inTransaction } from '@nova/kernel';
import type { Kysely } from 'kysely';
import type { MessagingContext } from '../context.js';
import { conversationClosed, conversationNotFound } from '../domain/conversation-rules.js';
import {
  type AddressedEnvelope,
  addressEnvelopes,
  type DeviceRef,
  type EnvelopeInput,
  senderDeviceRequired,
  unknownSenderDevice,
} from '../domain/envelope-rules.js';
import { messagingEvent } from '../events.js';
import type { Delivery } from '../realtime/delivery.js';
import { messageRepository, type SendState, type StoredMessage } from '../store/message-repository.js';
import type { MessagingTables } from '../store/tables.js';
import type { MemberChecks } from './member-checks.js';

export interface NewMessage {
  clientMessageId: string;
  /** The sending device; may be left out when the caller has exactly one. */
  senderDeviceId?: string | undefined;
  envelopes: readonly EnvelopeInput[];
}

export interface MessageCommands {
  /**
   * Stores a message with one envelope per recipient device and a new
   * sequence, publishes message.sent and pushes the envelopes to the devices'
   * sockets. A resend with the same clientMessageId answers the first
   * message (`created: false`) and changes nothing.
   */
  send(
    callerId: string,
    conversationId: string,
    input: NewMessage,
  ): Promise<{ message: StoredMessage; created: boolean }>;
  /**
   * A device has every message of the conversation up to `upTo`: its
   * envelopes are marked delivered and the senders get `delivered` receipts.
   */
  acknowledge(
    device: { userId: string; deviceId: string },
    conversationId: string,
    upTo: number,
  ): Promise<void>;
}

/** The sending device: the one named (registered to the sender), or the sender's only device. */
function senderDevice(devices: readonly DeviceRef[], senderId: string, named: string | undefined): string {
  const own = devices.filter((d) => d.userId === senderId).map((d) => d.deviceId);
  if (named !== undefined) {
    if (!own.includes(named)) throw unknownSenderDevice(named);
    return named;
  }
  if (own.length === 1) return own[0] as string;
  if (own.length === 0) throw unknownSenderDevice('(none registered)');
  throw senderDeviceRequired();
}

/**
 * Sends that read their state before the transaction (one statement, no
 * lock) and find it stale at the insert this many times go the locked way:
 * under contention the lock queues them instead of reading again and again.
 */
const OPTIMISTIC_ATTEMPTS = 2;

export function createMessageCommands(
  ctx: MessagingContext,
  checks: MemberChecks,
  delivery: Delivery,
): MessageCommands {
  const { database, outbox } = ctx;

  /** The checks a state must pass before anything is stored; answers the sender's device and the envelopes. */
  const validate = (callerId: string, state: SendState, input: NewMessage) => {
    if (!state.memberIds.includes(callerId)) throw conversationNotFound();
    if (state.kind === 'direct' && !state.memberIds.some((id) => id !== callerId)) throw conversationClosed();
    const deviceId = senderDevice(state.devices, callerId, input.senderDeviceId);
    const envelopes = addressEnvelopes(input.envelopes, state.devices, { userId: callerId, deviceId });
    return { deviceId, envelopes };
  };

  /**
   * Stores the message and its message.sent event in one statement if
   * `state` is still current; undefined when it went stale. One statement is
   * atomic, so the optimistic path needs no transaction (no BEGIN/COMMIT
   * round trips: Database.autocommit, which still sends the outbox's wake-up
   * after the statement); the locked path runs it in its transaction.
   */
  const store = async (
    db: Kysely<MessagingTables>,
    callerId: string,
    conversationId: string,
    state: SendState,
    input: NewMessage,
    { deviceId, envelopes }: ReturnType<typeof validate>,
  ): Promise<{ message: StoredMessage; envelopes: AddressedEnvelope[] } | undefined> => {
    const message: StoredMessage = {
      id: randomUUID(),
      conversationId,
      seq: state.lastSeq + 1,
      senderId: callerId,
      senderDeviceId: deviceId,
      clientMessageId: input.clientMessageId,
      sentAt: new Date(),
    };
    const sent = messagingEvent.messageSent({
      messageId: message.id,
      conversationId,
      conversationKind: state.kind,
      seq: message.seq,
      senderId: callerId,
      senderDeviceId: deviceId,
      recipientIds: state.memberIds.filter((id) => id !== callerId),
      sentAt: message.sentAt.toISOString(),
    });
    const { rows } = await outbox.writeWithin(
      db,
      [sent],
      (outboxCtes) => messageRepository.insertStatement(db, message, envelopes, state, outboxCtes),
      { onlyIf: 'bump' },
    );
    return Number(rows[0]?.stored ?? 0) === 1 ? { message, envelopes } : undefined;
  };

  return {
    async send(callerId, conversationId, input) {
      // Optimistic: one read outside the transaction, then one statement that
      // stores only if the sequence and membership read are still current.
      for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
        const state = await messageRepository.sendView(
          database.db,
          conversationId,
          callerId,
          input.clientMessageId,
        );
        if (!state) throw conversationNotFound();
        if (state.kind === 'direct') {
          const other = state.memberIds.find((id) => id !== callerId);
          if (!other) throw conversationClosed();
          await checks.assertNotBlocked(callerId, other);
        }
        if (state.existing) return { message: state.existing, created: false };
        const checked = validate(callerId, state, input);
        const sent = await database.autocommit((db) =>
          store(db, callerId, conversationId, state, input, checked),
        );
        if (sent) {
          await delivery.message(sent.message, sent.envelopes);
          return { message: sent.message, created: true };
        }
      }
      // Contended: the conversation's lock orders this send behind the others
      // (the blocked check above already passed for this conversation).
      const result = await inTransaction(database, async (tx) => {
        const state = await messageRepository.lockForSend(
          tx,
          conversationId,
          callerId,
          input.clientMessageId,
        );
        if (!state?.memberIds.includes(callerId)) throw conversationNotFound();
        if (state.existing) return { message: state.existing, created: false as const };
        const sent = await store(
          tx,
          callerId,
          conversationId,
          state,
          input,
          validate(callerId, state, input),
        );
        // Under the lock the state cannot be stale.
        if (!sent) throw new Error('send under the conversation lock found its state stale');
        return { ...sent, created: true as const };
      });
      if (result.created) await delivery.message(result.message, result.envelopes);
      return { message: result.message, created: result.created };
    },

    async acknowledge(device, conversationId, upTo) {
      await checks.conversationOf(device.userId, conversationId);
      const delivered = await inTransaction(database, (tx) =>
        messageRepository.markDelivered(tx, device, conversationId, upTo, new Date()),
      );
      if (delivered.length > 0) await delivery.delivered(conversationId, device, delivered);
    },
  };
}
