import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorFrame, type Logger } from '@nova/kernel';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { type ChannelRouting, clientFrameAddress, serverFrameChannel } from './channel-table.js';
import type { Upstream } from './upstream.js';

// Close codes a peer may not send on the wire (RFC 6455 §7.4.1): reported locally only.
const UNSENDABLE = new Set([1004, 1005, 1006, 1015]);
const GOING_AWAY = 1001;
const UPSTREAM_FAILED = 1011;
const SLOW_CONSUMER = 4008;
/** Close codes of a channel owner that judge the client itself (revoked token, frame flood): the whole socket closes with them. */
const CLIENT_VERDICTS = new Set([1008, 4401]);
/** Client frames held while a channel owner's socket opens; more is a flood. */
const MAX_PENDING = 64;

export interface SocketRelay {
  /**
   * Opens the socket at the upstream first; only when it accepts is the
   * client's upgrade completed, so the client sees the upstream's own refusal
   * (401, 404…) or the gateway's 503 as plain HTTP.
   */
  relay(options: {
    request: IncomingMessage;
    socket: Duplex;
    head: Buffer;
    upstream: Upstream;
    target: URL;
    headers: Record<string, string>;
  }): void;
  /** Shutdown: every relayed socket is closed with 1001 on both sides. */
  closeAll(): void;
}

/** A socket to the process owning some channels, opened for one client on its first frame for them. */
interface ChannelSocket {
  ws: WebSocket;
  upstream: Upstream;
  open: boolean;
  pending: { data: RawData; channel: string; type: string }[];
  /** Channels the client used through it: told `unavailable` when it is lost. */
  used: Set<string>;
}

interface Pair {
  client: WebSocket;
  upstream: WebSocket;
  owners: Map<string, ChannelSocket>;
}

/**
 * The realtime socket through the gateway: a WebSocket to the client and
 * one to the socket service's process per connection, frames, pings and
 * pongs passed both ways untouched, and each side's close code given to
 * the other. Framing is the gateway's own, so it can close every client
 * cleanly with 1001 when it stops.
 *
 * Channels registered by a service in another process (ADR 035: live's
 * `stream`, `stream.chat`, `stream.viewers`) are routed: a client frame of
 * such a channel goes over a second socket to its owner's process, opened
 * on the first such frame with the same identity; from that socket only
 * frames of its own channels (and error answers) reach the client, and
 * while it is open the socket service's copies of those channels are
 * dropped, so no frame arrives twice. An owner that cannot be reached, or
 * whose socket is lost, answers `unavailable` error frames for its channels
 * only; the next frame for them tries again.
 */
export function createSocketRelay(options: {
  maxFrameBytes: number;
  /**
   * A client that lets more than this pile up unread is closed (4008, as the
   * services' own sockets do) instead of growing the gateway's memory.
   */
  sendBufferBytes: number;
  logger: Logger;
  routing?: ChannelRouting;
}): SocketRelay {
  /** A frame of an upstream to the client, unless the client has stopped reading. */
  const toClient = (client: WebSocket, data: RawData, binary: boolean) => {
    if (client.readyState !== WebSocket.OPEN) return;
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
    if (client.bufferedAmount + size > options.sendBufferBytes) {
      client.close(SLOW_CONSUMER, 'slow consumer: send buffer full');
      return;
    }
    client.send(data, { binary });
  };
  const server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: options.maxFrameBytes,
  });
  const routing = options.routing;
  const open = new Set<Pair>();

  const refuse = (socket: Duplex, status: number, headers: Record<string, string>, body: string) => {
    const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`];
    for (const [name, value] of Object.entries({
      ...headers,
      'content-length': String(Buffer.byteLength(body)),
    }))
      lines.push(`${name}: ${value}`);
    lines.push('connection: close', '', '');
    socket.end(lines.join('\r\n') + body);
  };

  const unavailable = (client: WebSocket, upstream: Upstream, about: { channel: string; type?: string }) =>
    sendText(
      client,
      JSON.stringify(
        errorFrame(
          'unavailable',
          `The ${upstream.service} service is temporarily unavailable; try again.`,
          about,
        ),
      ),
    );

  /** The socket to `owner` for this pair: opened now when there is none. */
  const ownerSocket = (
    pair: Pair,
    owner: Upstream,
    target: URL,
    headers: Record<string, string>,
  ): ChannelSocket | undefined => {
    const existing = pair.owners.get(owner.service);
    if (existing) return existing;
    try {
      owner.acquire();
    } catch {
      return undefined; // circuit open, or no address: the caller answers unavailable
    }
    const url = new URL(`${target.pathname}${target.search}`, owner.url);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const started = performance.now();
    const ws = new WebSocket(url, {
      headers,
      perMessageDeflate: false,
      handshakeTimeout: owner.timeoutMs,
      maxPayload: 0,
    });
    const entry: ChannelSocket = { ws, upstream: owner, open: false, pending: [], used: new Set() };
    pair.owners.set(owner.service, entry);
    let judged = false;
    // Lost before or after it opened: its channels are unavailable, the rest of the socket carries on.
    const lost = () => {
      if (pair.owners.get(owner.service) !== entry) return;
      pair.owners.delete(owner.service);
      for (const frame of entry.pending.splice(0))
        unavailable(pair.client, owner, { channel: frame.channel, type: frame.type });
      if (entry.open) for (const channel of entry.used) unavailable(pair.client, owner, { channel });
    };
    ws.on('unexpected-response', (_request, response) => {
      judged = true;
      owner.answered('GET', response.statusCode ?? 502, (performance.now() - started) / 1000);
      response.resume();
      lost();
      ws.terminate();
    });
    ws.on('error', (error) => {
      if (!judged && !entry.open) owner.failed(/timeout/i.test(error.message) ? 'timeout' : 'unreachable');
      judged = true;
      options.logger.debug({ err: error, upstream: owner.service }, 'channel owner socket error');
    });
    ws.on('open', () => {
      judged = true;
      entry.open = true;
      owner.answered('GET', 101, (performance.now() - started) / 1000);
      for (const { data } of entry.pending.splice(0)) ws.send(data, { binary: false });
    });
    ws.on('message', (data, binary) => {
      if (binary) return;
      const channel = serverFrameChannel(data as Buffer);
      // Its own channels and the answers to what was sent to it; its `socket` frames and the
      // user-wide pushes every socket of the user gets come through the socket service's socket.
      if (channel === 'error' || (channel !== undefined && routing?.ownerOf(channel) === owner))
        toClient(pair.client, data, false);
    });
    ws.on('close', (code, reason) => {
      if (!judged) owner.released();
      if (entry.open && CLIENT_VERDICTS.has(code) && pair.owners.get(owner.service) === entry) {
        pair.owners.delete(owner.service);
        passClose(pair.client, code, reason, UPSTREAM_FAILED);
        return;
      }
      lost();
    });
    return entry;
  };

  const closeOwners = (pair: Pair, code: number, reason: Buffer) => {
    for (const entry of pair.owners.values()) {
      if (entry.ws.readyState === WebSocket.CONNECTING) entry.ws.terminate();
      else passClose(entry.ws, code, reason, GOING_AWAY);
    }
    pair.owners.clear();
  };

  /** A client frame: to the process owning its channel, or to the socket service's. */
  const route = (
    pair: Pair,
    data: RawData,
    binary: boolean,
    target: URL,
    headers: Record<string, string>,
  ) => {
    const address = routing?.split && !binary ? clientFrameAddress(data as Buffer) : undefined;
    const owner = address ? routing?.ownerOf(address.channel) : undefined;
    if (!address || !owner) return pair.upstream.send(data, { binary });
    const entry = ownerSocket(pair, owner, target, headers);
    if (!entry) return unavailable(pair.client, owner, address);
    entry.used.add(address.channel);
    if (entry.open) return entry.ws.send(data, { binary: false });
    if (entry.pending.length >= MAX_PENDING)
      return sendText(
        pair.client,
        JSON.stringify(errorFrame('rate_limited', 'Too many frames; slow down.', address)),
      );
    entry.pending.push({ data, ...address });
  };

  /** A frame of the socket service's process: dropped when a channel owner's socket delivers that channel. */
  const fromSocketService = (pair: Pair, data: RawData, binary: boolean) => {
    if (pair.owners.size > 0 && !binary) {
      const channel = serverFrameChannel(data as Buffer);
      const owner = channel === undefined ? undefined : routing?.ownerOf(channel);
      if (owner && pair.owners.get(owner.service)?.open) return;
    }
    toClient(pair.client, data, binary);
  };

  return {
    relay({ request, socket, head, upstream, target, headers }) {
      let accepted = false;
      const started = performance.now();
      const toUpstream = new WebSocket(target, {
        headers,
        autoPong: false,
        perMessageDeflate: false,
        handshakeTimeout: upstream.timeoutMs,
        maxPayload: 0,
      });
      const early: { data: RawData; binary: boolean }[] = [];
      toUpstream.on('message', (data, binary) => {
        if (!accepted) early.push({ data, binary });
      });
      toUpstream.on('unexpected-response', (_req, response) => {
        upstream.answered('GET', response.statusCode ?? 502, (performance.now() - started) / 1000);
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const passed: Record<string, string> = {};
          for (const name of ['content-type', 'retry-after', 'www-authenticate', 'x-request-id']) {
            const value = response.headers[name];
            if (typeof value === 'string') passed[name] = value;
          }
          refuse(socket, response.statusCode ?? 502, passed, Buffer.concat(chunks).toString());
        });
      });
      let clientGone = false;
      toUpstream.on('error', (error) => {
        if (accepted) return; // the close handler below ends the pair
        if (clientGone) return upstream.released();
        upstream.failed(/timeout/i.test(error.message) ? 'timeout' : 'unreachable');
        const body = JSON.stringify({
          type: 'about:blank',
          title: 'Service Unavailable',
          status: 503,
          code: 'upstream_unavailable',
          detail: `The ${upstream.service} service is temporarily unavailable.`,
        });
        refuse(socket, 503, { 'content-type': 'application/problem+json', 'retry-after': '1' }, body);
      });
      let paired = false;
      // A client that goes (or fails its own handshake) before the pair exists leaves no upstream socket behind.
      socket.once('close', () => {
        if (paired) return;
        clientGone = true;
        toUpstream.terminate();
      });
      toUpstream.on('open', () => {
        accepted = true;
        upstream.answered('GET', 101, (performance.now() - started) / 1000);
        server.handleUpgrade(request, socket, head, (client) => {
          paired = true;
          const pair: Pair = { client, upstream: toUpstream, owners: new Map() };
          open.add(pair);
          toUpstream.removeAllListeners('message');
          for (const { data, binary } of early.splice(0)) toClient(client, data, binary);
          client.on('message', (data, binary) => route(pair, data, binary, target, headers));
          toUpstream.on('message', (data, binary) => fromSocketService(pair, data, binary));
          client.on('ping', (data) => toUpstream.ping(data));
          client.on('pong', (data) => toUpstream.pong(data));
          toUpstream.on('ping', (data) => client.ping(data));
          toUpstream.on('pong', (data) => client.pong(data));
          client.on('error', (error) => options.logger.debug({ err: error }, 'relayed client socket error'));
          client.on('close', (code, reason) => {
            open.delete(pair);
            passClose(toUpstream, code, reason, GOING_AWAY);
            closeOwners(pair, code, reason);
          });
          toUpstream.on('close', (code, reason) => {
            open.delete(pair);
            passClose(client, code, reason, UPSTREAM_FAILED);
            closeOwners(pair, GOING_AWAY, Buffer.alloc(0));
          });
          // The upstream may have gone while the client's handshake completed.
          if (toUpstream.readyState !== WebSocket.OPEN)
            passClose(client, 1006, Buffer.alloc(0), UPSTREAM_FAILED);
        });
      });
    },
    closeAll() {
      for (const pair of open) {
        pair.client.close(GOING_AWAY, 'gateway shutting down');
        pair.upstream.close(GOING_AWAY, 'gateway shutting down');
        closeOwners(pair, GOING_AWAY, Buffer.from('gateway shutting down'));
      }
      open.clear();
    },
  };
}

function sendText(to: WebSocket, text: string): void {
  if (to.readyState === WebSocket.OPEN) to.send(text);
}

function passClose(to: WebSocket, code: number, reason: Buffer, fallback: number): void {
  if (to.readyState === WebSocket.CLOSED || to.readyState === WebSocket.CLOSING) return;
  if (UNSENDABLE.has(code)) to.close(fallback);
  else to.close(code, reason);
}
