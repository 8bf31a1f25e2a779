/**
 * End-to-end encrypted messaging for one device of a user: publishes the
 * device's keys, sends a text as one envelope per recipient device (every
 * member's devices and the sender's own other devices), receives envelopes
 * from the socket or from history, and resumes after being offline. The
 * server sees only ciphertext.
 */
import { DeviceCrypto, type PeerDevice } from '../crypto/device-crypto.js';
import { EndToEndError } from '../crypto/errors.js';
import type { KeyStore } from '../crypto/key-store.js';
import { KeyedQueue } from '../keyed-queue.js';
import { NovaApiError } from '../rest/errors.js';
import type { NovaClient } from '../rest/nova-client.js';
import type { NovaSocket, SocketFrame } from '../socket/nova-socket.js';
import { decodePayload, encodePayload } from './payload.js';
import { MemorySyncPositions, type SyncPositions } from './sync-positions.js';

export interface MessengerOptions {
  client: NovaClient;
  userId: string;
  deviceId: string;
  store: KeyStore;
  positions?: SyncPositions;
  /** How long a member's device list is trusted before the key directory is asked again (default 5 min). */
  deviceListTtlMs?: number;
}

/** Where a message stands in its conversation and who sent it, as the server records it. */
export interface MessageMeta {
  id: string;
  conversationId: string;
  seq: number;
  senderId: string;
  senderDeviceId: string;
  sentAt: string;
}

/** A message as this device read it. */
export interface ReceivedMessage extends MessageMeta {
  clientMessageId: string;
  text: string;
  /** The sending device's identity key (base64), for out-of-band verification. */
  senderIdentityKey: string;
}

/** An envelope addressed to this device, from the socket or from history. */
export interface IncomingEnvelope extends MessageMeta {
  ciphertext: string;
}

export interface Undecryptable {
  message: MessageMeta;
  error: EndToEndError;
}

/** Only the fields of MessageMeta (frames and history items carry more, the ciphertext among them). */
function metaOf(source: MessageMeta): MessageMeta {
  const { id, conversationId, seq, senderId, senderDeviceId, sentAt } = source;
  return { id, conversationId, seq, senderId, senderDeviceId, sentAt };
}

interface Events {
  message: ReceivedMessage;
  undecryptable: Undecryptable;
}

/** Send attempts: the first, then after learning of new devices (409) or a changed membership (400). */
const SEND_ATTEMPTS = 3;
const HISTORY_PAGE = 100;

export class Messenger {
  private readonly positions: SyncPositions;
  private readonly deviceListTtlMs: number;
  /** Per member: the device ids the key directory last listed, and when. */
  private readonly deviceLists = new Map<string, { deviceIds: string[]; fetchedAt: number }>();
  /** Envelopes of one conversation are handled one at a time, in order. */
  private readonly queue = new KeyedQueue();
  private readonly listeners = {
    message: new Set<(m: ReceivedMessage) => void>(),
    undecryptable: new Set<(u: Undecryptable) => void>(),
  };
  private socket: NovaSocket | undefined;

  private constructor(
    private readonly options: MessengerOptions,
    readonly crypto: DeviceCrypto,
  ) {
    this.positions = options.positions ?? new MemorySyncPositions();
    this.deviceListTtlMs = options.deviceListTtlMs ?? 5 * 60_000;
  }

  static async open(options: MessengerOptions): Promise<Messenger> {
    return new Messenger(options, await DeviceCrypto.open(options.store));
  }

  get deviceId(): string {
    return this.options.deviceId;
  }

  on<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): () => void {
    const set = this.listeners[event] as Set<(value: Events[K]) => void>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Registers (or updates) this device in the key directory with `oneTimePreKeys` fresh one-time pre-keys. */
  async publishKeys(options: { oneTimePreKeys?: number; rotateSignedPreKey?: boolean } = {}): Promise<void> {
    const keys = await this.crypto.prepareKeys({
      oneTimePreKeys: options.oneTimePreKeys ?? 50,
      ...(options.rotateSignedPreKey ? { rotateSignedPreKey: true } : {}),
    });
    await this.options.client.publishKeys({ deviceId: this.options.deviceId, ...keys });
  }

  /** Uploads `batch` more one-time pre-keys when fewer than `below` are left; resolves to how many were added. */
  async topUpPreKeys(options: { below?: number; batch?: number } = {}): Promise<number> {
    const mine = (await this.options.client.ownDevices()).find((d) => d.deviceId === this.options.deviceId);
    if (mine && mine.oneTimePreKeysLeft >= (options.below ?? 20)) return 0;
    const batch = options.batch ?? 50;
    await this.publishKeys({ oneTimePreKeys: batch });
    return batch;
  }

  /**
   * Encrypts `text` once per recipient device and sends it. Retries with
   * the same clientMessageId (idempotent on the server) when the server
   * names devices it lacks (409 missing_devices) or refuses one that is no
   * longer a member's (400 unknown_device).
   */
  async send(conversationId: string, text: string, options: { clientMessageId?: string } = {}) {
    const clientMessageId = options.clientMessageId ?? globalThis.crypto.randomUUID();
    const plaintext = encodePayload({ conversationId, clientMessageId, text });
    let refresh = new Set<string>();
    for (let attempt = 1; ; attempt++) {
      const { memberIds } = await this.options.client.conversation(conversationId);
      const targets = await this.recipientDevices(memberIds, refresh);
      const envelopes = await Promise.all(
        targets.map(async (peer) => ({
          userId: peer.userId,
          deviceId: peer.deviceId,
          ciphertext: await this.crypto.encrypt(peer, plaintext),
        })),
      );
      try {
        return await this.options.client.sendEnvelopes(conversationId, {
          clientMessageId,
          senderDeviceId: this.options.deviceId,
          envelopes,
        });
      } catch (error) {
        if (!(error instanceof NovaApiError) || attempt >= SEND_ATTEMPTS) throw error;
        if (error.code === 'missing_devices') {
          const missing = (error.problem as { missingDevices?: { userId: string }[] }).missingDevices ?? [];
          refresh = new Set(missing.map((device) => device.userId));
        } else if (error.code === 'unknown_device') {
          refresh = new Set(memberIds);
        } else {
          throw error;
        }
      }
    }
  }

  /** Every device of the members except this one, each with a session (X3DH from a claimed bundle when new). */
  private async recipientDevices(memberIds: string[], refresh: Set<string>): Promise<PeerDevice[]> {
    const lists = await Promise.all(
      memberIds.map(async (userId) => {
        const known = this.deviceLists.get(userId);
        const fresh = known && !refresh.has(userId) && Date.now() - known.fetchedAt < this.deviceListTtlMs;
        const deviceIds = fresh ? known.deviceIds : await this.fetchDevices(userId);
        return deviceIds.map((deviceId) => ({ userId, deviceId }));
      }),
    );
    return lists
      .flat()
      .filter((peer) => !(peer.userId === this.options.userId && peer.deviceId === this.deviceId));
  }

  /** Claims the user's bundles and starts sessions with devices that have none (or a new identity key). */
  private async fetchDevices(userId: string): Promise<string[]> {
    const bundles = await this.options.client.claimKeyBundles(userId);
    const deviceIds: string[] = [];
    for (const bundle of bundles) {
      const peer = { userId, deviceId: bundle.deviceId };
      if (userId === this.options.userId && bundle.deviceId === this.deviceId) continue;
      deviceIds.push(bundle.deviceId);
      if ((await this.crypto.peerIdentityKey(peer)) !== bundle.identityKey) {
        await this.crypto.startSession(peer, bundle);
      }
    }
    this.deviceLists.set(userId, { deviceIds, fetchedAt: Date.now() });
    return deviceIds;
  }

  /**
   * Reads what arrived while this device was away: every conversation with
   * newer messages than this device's position (or only `conversationId`).
   */
  async catchUp(conversationId?: string): Promise<ReceivedMessage[]> {
    if (conversationId) return this.inOrder(conversationId, () => this.fetchAfterPosition(conversationId));
    const received: ReceivedMessage[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.options.client.conversations({ limit: 100, ...(cursor ? { cursor } : {}) });
      for (const conversation of page.items) {
        if (conversation.lastSeq <= (await this.positions.load(conversation.id))) continue;
        received.push(
          ...(await this.inOrder(conversation.id, () => this.fetchAfterPosition(conversation.id))),
        );
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return received;
  }

  /**
   * Handles a `message` frame from the socket. A frame that is not the next
   * one after this device's position (one was missed while the socket was
   * away or a publish was lost) makes the device fetch the gap first.
   */
  async receiveFrame(frame: SocketFrame): Promise<ReceivedMessage | undefined> {
    if (frame.channel !== 'message' || frame.type !== 'new') return undefined;
    const data = frame.data as IncomingEnvelope & { messageId: string };
    const envelope: IncomingEnvelope = { ...data, id: data.messageId };
    return this.inOrder(envelope.conversationId, async () => {
      const position = await this.positions.load(envelope.conversationId);
      if (envelope.seq <= position) return undefined; // already read (history got there first)
      if (envelope.seq > position + 1) {
        const read = await this.fetchAfterPosition(envelope.conversationId);
        return read.find((message) => message.id === envelope.id);
      }
      const message = await this.open(envelope);
      this.socket?.send({
        channel: 'receipt',
        type: 'delivered',
        data: { conversationId: envelope.conversationId, upTo: envelope.seq },
      });
      return message;
    });
  }

  /**
   * Wires the messenger to a socket opened with this device's id: message
   * frames are read as they come, and every (re)connect catches up first.
   */
  attach(socket: NovaSocket): () => void {
    this.socket = socket;
    const offFrame = socket.on('frame', (frame) => void this.receiveFrame(frame).catch(() => undefined));
    const offReady = socket.on('ready', () => void this.catchUp().catch(() => undefined));
    return () => {
      offFrame();
      offReady();
      if (this.socket === socket) this.socket = undefined;
    };
  }

  private async fetchAfterPosition(conversationId: string): Promise<ReceivedMessage[]> {
    const received: ReceivedMessage[] = [];
    const after = await this.positions.load(conversationId);
    let cursor: string | undefined;
    do {
      const page = await this.options.client.deviceMessages(conversationId, {
        deviceId: this.deviceId,
        limit: HISTORY_PAGE,
        ...(cursor ? { cursor } : { after }),
      });
      for (const item of page.items) {
        if (item.seq <= (await this.positions.load(conversationId))) continue;
        const message = await this.open({ ...item, ciphertext: item.envelope.ciphertext });
        if (message) received.push(message);
      }
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return received;
  }

  /** Decrypts one envelope and moves the position past it, readable or not (a bad one must not block the rest). */
  private async open(envelope: IncomingEnvelope): Promise<ReceivedMessage | undefined> {
    const sender = { userId: envelope.senderId, deviceId: envelope.senderDeviceId };
    let message: ReceivedMessage | undefined;
    try {
      const { plaintext, remoteIdentityKey } = await this.crypto.decrypt(sender, envelope.ciphertext);
      const payload = decodePayload(plaintext, envelope.conversationId);
      message = {
        ...metaOf(envelope),
        clientMessageId: payload.clientMessageId,
        text: payload.text,
        senderIdentityKey: remoteIdentityKey,
      };
    } catch (error) {
      if (!(error instanceof EndToEndError)) throw error; // a store failure: do not move past it
      // `replayed`: read before and the position was not saved (a crash between the two): nothing to report.
      if (error.code !== 'replayed') {
        this.emit('undecryptable', { message: metaOf(envelope), error });
      }
    }
    await this.positions.save(envelope.conversationId, envelope.seq);
    if (message) this.emit('message', message);
    return message;
  }

  private emit<K extends keyof Events>(event: K, value: Events[K]): void {
    for (const listener of this.listeners[event] as Set<(value: Events[K]) => void>) {
      try {
        listener(value);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  private inOrder<T>(conversationId: string, run: () => Promise<T>): Promise<T> {
    return this.queue.run(conversationId, run);
  }
}
