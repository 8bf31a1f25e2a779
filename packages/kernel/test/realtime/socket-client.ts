import { WebSocket } from 'ws';

export interface ReceivedFrame {
  channel: string;
  type: string;
  data?: unknown;
}

/** A test client of GET /api/v1/ws: frames collected in order, waits bounded. */
export interface SocketClient {
  ws: WebSocket;
  frames: ReceivedFrame[];
  /** The first frame (not yet taken) matching, within timeoutMs. */
  next(match: (frame: ReceivedFrame) => boolean, timeoutMs?: number): Promise<ReceivedFrame>;
  send(frame: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
}

export interface ConnectOptions {
  token?: string;
  /** The token as ?accessToken= instead of the header. */
  queryToken?: boolean;
  deviceId?: string;
  autoPong?: boolean;
}

function socketUrl(baseUrl: string, options: ConnectOptions): string {
  const url = new URL('/api/v1/ws', baseUrl.replace(/^http/, 'ws'));
  if (options.deviceId) url.searchParams.set('deviceId', options.deviceId);
  if (options.queryToken && options.token) url.searchParams.set('accessToken', options.token);
  return url.toString();
}

/** The HTTP status the upgrade was refused with (or 101 when it was accepted). */
export function upgradeStatus(baseUrl: string, options: ConnectOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = options.token && !options.queryToken ? { authorization: `Bearer ${options.token}` } : {};
    const ws = new WebSocket(socketUrl(baseUrl, options), { headers });
    ws.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', (error) => reject(error));
  });
}

/** Opens a socket and waits for the server's `socket.ready` frame (its subscription is active). */
export async function connect(baseUrl: string, options: ConnectOptions): Promise<SocketClient> {
  const headers = options.token && !options.queryToken ? { authorization: `Bearer ${options.token}` } : {};
  const ws = new WebSocket(socketUrl(baseUrl, options), { headers, autoPong: options.autoPong ?? true });
  const frames: ReceivedFrame[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    frames.push(JSON.parse(data.toString()) as ReceivedFrame);
    for (const wake of [...waiters]) wake();
  });
  ws.on('error', () => undefined);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on('close', (code, reason) => {
      resolve({ code, reason: reason.toString() });
      for (const wake of [...waiters]) wake();
    });
  });
  const next = (match: (frame: ReceivedFrame) => boolean, timeoutMs = 5000) =>
    new Promise<ReceivedFrame>((resolve, reject) => {
      const look = () => {
        const index = frames.findIndex(match);
        if (index === -1) return false;
        const [frame] = frames.splice(index, 1);
        cleanup();
        resolve(frame as ReceivedFrame);
        return true;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(wake);
      };
      const wake = () => void look();
      if (!look()) waiters.add(wake);
    });
  const client: SocketClient = { ws, frames, next, send: (frame) => ws.send(JSON.stringify(frame)), closed };
  await next((f) => f.channel === 'socket' && f.type === 'ready');
  return client;
}

/** Resolves when `done` holds, polling; fails after timeoutMs. */
export async function eventually(done: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
