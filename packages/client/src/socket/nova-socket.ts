/**
 * The realtime socket (GET /api/v1/ws, ADR 020) as a client keeps it open:
 * connect with the access token (`?accessToken=`, which browsers can set)
 * and `deviceId`, heartbeats the client can see in every runtime (a
 * `socket.ping` frame answered by `socket.pong` — a browser never sees the
 * protocol pings), and reconnection with exponential backoff and jitter.
 * Live frames are fire-and-forget on the server: after every (re)connect
 * the `ready` event tells the layers above to resume from their sequence.
 */

/** A frame both ways: `{channel, type, data}`. */
export interface SocketFrame {
  channel: string;
  type: string;
  data?: unknown;
}

/** The part of the WebSocket API the client uses: the browser's WebSocket and `ws` both have it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface NovaSocketOptions {
  baseUrl: string;
  /** The current access token; called with the refused one after a 4401 close so it can be refreshed. */
  accessToken: (refused?: string) => Promise<string | undefined>;
  /** With it, the message envelopes of this device are pushed on the socket. */
  deviceId?: string;
  /** Default: the global WebSocket (browsers, Node ≥ 22); in Node 20 pass `(url) => new WebSocket(url)` from `ws`. */
  webSocket?: WebSocketFactory;
  /** Period of the client's pings (default 20 s). */
  heartbeatMs?: number;
  /** No frame at all for this long means the connection is dead (default 2.5 heartbeats). */
  deadAfterMs?: number;
  /** First reconnect delay (default 250 ms), doubled per failed attempt up to maxBackoffMs (default 30 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export type SocketState = 'connecting' | 'open' | 'reconnecting' | 'closed';

interface Events {
  /** The server's subscription is active; `resumed` after a reconnect (time to catch up). */
  ready: { resumed: boolean; connectionId: string };
  frame: SocketFrame;
  /** The socket closed; a reconnect follows unless close() was called or the session is over. */
  disconnected: { code: number; reason: string; retryInMs: number | null };
  /** The session cannot authenticate the socket any more (refresh refused): no more reconnects. */
  unauthenticated: undefined;
}

type Listener<T> = (value: T) => void;

const OPEN = 1;
const UNAUTHENTICATED = 4401;

export class NovaSocket {
  private ws: WebSocketLike | undefined;
  private state: SocketState = 'closed';
  private attempts = 0;
  private connectedOnce = false;
  private token: string | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private lastSeen = 0;
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();
  private readonly heartbeatMs: number;
  private readonly deadAfterMs: number;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly factory: WebSocketFactory;

  constructor(private readonly options: NovaSocketOptions) {
    this.heartbeatMs = options.heartbeatMs ?? 20_000;
    this.deadAfterMs = options.deadAfterMs ?? Math.round(this.heartbeatMs * 2.5);
    this.initialBackoffMs = options.initialBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    const global = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
    const factory = options.webSocket ?? (global ? (url: string) => new global(url) : undefined);
    if (!factory) throw new TypeError('no WebSocket in this runtime: pass options.webSocket');
    this.factory = factory;
  }

  get status(): SocketState {
    return this.state;
  }

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as Listener<never>);
    this.listeners.set(event, set);
    return () => set.delete(listener as Listener<never>);
  }

  private emit<K extends keyof Events>(event: K, value: Events[K]): void {
    for (const listener of this.listeners.get(event) ?? []) {
      try {
        (listener as Listener<Events[K]>)(value);
      } catch {
        // A listener's failure is its own; the socket goes on.
      }
    }
  }

  /** Opens the socket (and keeps it open until close()). Resolves at the first `ready`. */
  connect(): Promise<void> {
    if (this.state !== 'closed') return Promise.resolve();
    this.state = 'connecting';
    return new Promise((resolve) => {
      const off = this.on('ready', () => {
        off();
        resolve();
      });
      void this.open();
    });
  }

  /** Sends a frame now; false when the socket is not open (nothing is queued: callers resume instead). */
  send(frame: SocketFrame): boolean {
    if (!this.ws || this.ws.readyState !== OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  close(): void {
    this.state = 'closed';
    clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(1000, 'client closed');
  }

  private async open(refused?: string): Promise<void> {
    let token: string | undefined;
    try {
      token = await this.options.accessToken(refused);
    } catch {
      return this.scheduleReconnect(1006, 'token unavailable');
    }
    if (this.state === 'closed') return;
    if (!token) {
      this.state = 'closed';
      this.emit('unauthenticated', undefined);
      return;
    }
    this.token = token;
    const url = new URL('/api/v1/ws', this.options.baseUrl.replace(/^http/, 'ws'));
    url.searchParams.set('accessToken', token);
    if (this.options.deviceId) url.searchParams.set('deviceId', this.options.deviceId);
    const ws = this.factory(url.toString());
    this.ws = ws;
    ws.onopen = () => {
      this.lastSeen = Date.now();
      this.startHeartbeat();
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      this.lastSeen = Date.now();
      const frame = parse(event.data);
      if (!frame) return;
      if (frame.channel === 'socket') {
        if (frame.type === 'ready') this.onReady(frame);
        return; // pongs only prove liveness (lastSeen)
      }
      this.emit('frame', frame);
    };
    // An upgrade refused (401) or a network failure ends in onclose too, with 1006.
    ws.onerror = () => undefined;
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.ws = undefined;
      this.stopHeartbeat();
      if (this.state === 'closed') return;
      this.scheduleReconnect(event.code, event.reason);
    };
  }

  private onReady(frame: SocketFrame): void {
    const resumed = this.connectedOnce;
    this.connectedOnce = true;
    this.attempts = 0;
    this.state = 'open';
    const connectionId = String((frame.data as { connectionId?: unknown } | undefined)?.connectionId ?? '');
    this.emit('ready', { resumed, connectionId });
  }

  private scheduleReconnect(code: number, reason: string): void {
    this.state = 'reconnecting';
    // The first retry after a working connection is immediate-ish; failures back off exponentially with jitter.
    const ceiling = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** this.attempts);
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.attempts += 1;
    this.emit('disconnected', { code, reason, retryInMs: delay });
    // After 4401 (revoked or expired), or a failed attempt with an expired token (a browser sees a refused
    // upgrade as 1006), the token is refreshed first; network failures reuse it.
    const refused =
      code === UNAUTHENTICATED || (this.token !== undefined && expiresSoon(this.token))
        ? this.token
        : undefined;
    this.reconnectTimer = setTimeout(() => void this.open(refused), delay);
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeatTimer = setInterval(() => {
      const ws = this.ws;
      if (!ws) return;
      if (Date.now() - this.lastSeen > this.deadAfterMs) {
        // Nothing, not even a pong, for too long: the peer or the path is gone. Close and reconnect.
        this.ws = undefined;
        this.stopHeartbeat();
        ws.onclose = null;
        ws.close(4000, 'heartbeat timeout');
        if (this.state !== 'closed') this.scheduleReconnect(4000, 'heartbeat timeout');
        return;
      }
      this.send({ channel: 'socket', type: 'ping', data: { at: Date.now() } });
    }, this.heartbeatMs);
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }
}

function parse(data: unknown): SocketFrame | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    const value = JSON.parse(data) as Partial<SocketFrame>;
    if (typeof value.channel !== 'string' || typeof value.type !== 'string') return undefined;
    return value as SocketFrame;
  } catch {
    return undefined;
  }
}

/** Whether a JWT's `exp` is past or within 30 s (read, not verified: it only decides when to refresh). */
function expiresSoon(token: string): boolean {
  const payload = token.split('.')[1];
  if (!payload) return false;
  try {
    const json = atob(
      payload
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(payload.length / 4) * 4, '='),
    );
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' && exp * 1000 < Date.now() + 30_000;
  } catch {
    return false;
  }
}
