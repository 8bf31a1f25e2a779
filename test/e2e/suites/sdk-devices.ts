import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';
import {
  MemoryKeyStore,
  Messenger,
  NovaApiError,
  NovaClient,
  NovaSocket,
  type ReceivedMessage,
  type Undecryptable,
  type WebSocketLike,
} from '../../../packages/client/src/index.js';

/** An account as the SDK's app sees it. */
export interface SdkUser {
  id: string;
  username: string;
  password: string;
}

/** One device of a user: its own session, key store, messenger and socket, and what it has read. */
export interface SdkDevice {
  user: SdkUser;
  deviceId: string;
  client: NovaClient;
  messenger: Messenger;
  socket: NovaSocket | undefined;
  received: ReceivedMessage[];
  undecryptable: Undecryptable[];
  /** Opens the socket (`ready` makes the messenger catch up first). */
  goOnline(): Promise<void>;
  /** Closes the socket: the device is offline until goOnline(). */
  goOffline(): void;
  /** Waits until the device has read a message with this text. */
  waitFor(text: string, timeoutMs?: number): Promise<ReceivedMessage>;
}

const PASSWORD = 'an sdk e2e password';

export async function signUp(baseUrl: string, prefix: string): Promise<SdkUser> {
  const username = `${prefix}_${randomUUID().slice(0, 8)}`;
  const client = new NovaClient({ baseUrl });
  const user = await client.register({ email: `${username}@example.com`, username, password: PASSWORD });
  return { id: user.id, username, password: PASSWORD };
}

export async function openDevice(
  baseUrl: string,
  user: SdkUser,
  deviceId: string,
  options: { oneTimePreKeys?: number } = {},
): Promise<SdkDevice> {
  const client = new NovaClient({ baseUrl });
  await client.login(user.username, user.password);
  const messenger = await Messenger.open({ client, userId: user.id, deviceId, store: new MemoryKeyStore() });
  await messenger.publishKeys({ oneTimePreKeys: options.oneTimePreKeys ?? 10 });
  const received: ReceivedMessage[] = [];
  const undecryptable: Undecryptable[] = [];
  messenger.on('message', (message) => received.push(message));
  messenger.on('undecryptable', (failure) => undecryptable.push(failure));
  let detach: (() => void) | undefined;
  const device: SdkDevice = {
    user,
    deviceId,
    client,
    messenger,
    socket: undefined,
    received,
    undecryptable,
    async goOnline() {
      const socket = new NovaSocket({
        baseUrl,
        deviceId,
        accessToken: (refused) => client.accessToken(refused),
        webSocket: (url) => new WebSocket(url) as unknown as WebSocketLike,
        initialBackoffMs: 100,
        maxBackoffMs: 1000,
      });
      detach = messenger.attach(socket);
      device.socket = socket;
      await socket.connect();
    },
    goOffline() {
      detach?.();
      device.socket?.close();
      device.socket = undefined;
    },
    async waitFor(text, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const found = received.find((message) => message.text === text);
        if (found) return found;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(
        `${user.username}/${deviceId} did not read "${text}" (read: ${received.map((m) => m.text).join(' | ')})`,
      );
    },
  };
  return device;
}

/**
 * POST /conversations, retried while messaging has not yet heard of a
 * just-registered account from social (404 user_not_found for a moment).
 */
export async function startConversation(device: SdkDevice, memberIds: string[], kind?: 'direct' | 'group') {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await device.client.createConversation(memberIds, kind);
    } catch (error) {
      if (!(error instanceof NovaApiError) || error.code !== 'user_not_found' || Date.now() > deadline)
        throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The refusal's code, or a failure when the call succeeded. */
export async function refusalCode(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    if (error instanceof NovaApiError) return error.code;
    throw error;
  }
  throw new Error('expected the call to be refused');
}
