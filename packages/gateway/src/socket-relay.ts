import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '@nova/kernel';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { Upstream } from './upstream.js';

// Close codes a peer may not send on the wire (RFC 6455 §7.4.1): reported locally only.
const UNSENDABLE = new Set([1004, 1005, 1006, 1015]);
const GOING_AWAY = 1001;
const UPSTREAM_FAILED = 1011;

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

/**
 * The realtime socket through the gateway: a WebSocket to the client and
 * one to the upstream per connection, frames, pings and pongs passed both
 * ways untouched, and each side's close code given to the other. Framing is
 * the gateway's own, so it can close every client cleanly with 1001 when it
 * stops.
 */
export function createSocketRelay(options: { maxFrameBytes: number; logger: Logger }): SocketRelay {
  const server = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: options.maxFrameBytes,
  });
  const open = new Set<{ client: WebSocket; upstream: WebSocket }>();

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
          const pair = { client, upstream: toUpstream };
          open.add(pair);
          toUpstream.removeAllListeners('message');
          for (const { data, binary } of early.splice(0)) client.send(data, { binary });
          client.on('message', (data, binary) => toUpstream.send(data, { binary }));
          toUpstream.on('message', (data, binary) => client.send(data, { binary }));
          client.on('ping', (data) => toUpstream.ping(data));
          client.on('pong', (data) => toUpstream.pong(data));
          toUpstream.on('ping', (data) => client.ping(data));
          toUpstream.on('pong', (data) => client.pong(data));
          client.on('error', (error) => options.logger.debug({ err: error }, 'relayed client socket error'));
          client.on('close', (code, reason) => {
            open.delete(pair);
            passClose(toUpstream, code, reason, GOING_AWAY);
          });
          toUpstream.on('close', (code, reason) => {
            open.delete(pair);
            passClose(client, code, reason, UPSTREAM_FAILED);
          });
          // The upstream may have gone while the client's handshake completed.
          if (toUpstream.readyState !== WebSocket.OPEN)
            passClose(client, 1006, Buffer.alloc(0), UPSTREAM_FAILED);
        });
      });
    },
    closeAll() {
      for (const { client, upstream } of open) {
        client.close(GOING_AWAY, 'gateway shutting down');
        upstream.close(GOING_AWAY, 'gateway shutting down');
      }
      open.clear();
    },
  };
}

function passClose(to: WebSocket, code: number, reason: Buffer, fallback: number): void {
  if (to.readyState === WebSocket.CLOSED || to.readyState === WebSocket.CLOSING) return;
  if (UNSENDABLE.has(code)) to.close(fallback);
  else to.close(code, reason);
}
