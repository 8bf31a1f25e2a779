import type { Server as NetServer, Socket } from 'node:net';

/** What every HTTP/2 prior-knowledge connection (gRPC) sends first (RFC 9113 §3.4). */
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** A connection that has not said which protocol it speaks by then is dropped. */
const SNIFF_TIMEOUT_MS = 10_000;

/**
 * Makes an HTTP/1 server's port also serve HTTP/2 prior-knowledge
 * connections (gRPC): each new connection's first bytes are read; the
 * HTTP/2 preface sends it to `http2`, anything else to the HTTP server's own
 * connection handling, with the bytes read put back first. Called before the
 * server listens; the server keeps its listening, close and connection
 * tracking as it was.
 */
export function shareHttpPort(server: NetServer, http2: (socket: Socket) => void): void {
  const httpListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    sniff(socket, (isHttp2) => {
      if (isHttp2) {
        http2(socket);
        return;
      }
      for (const listener of httpListeners) listener.call(server, socket);
      // The HTTP parser reads through its own listeners; the bytes put back flow first.
      socket.resume();
    });
  });
}

function sniff(socket: Socket, decide: (isHttp2: boolean) => void): void {
  let seen: Buffer = Buffer.alloc(0);
  const done = () => {
    socket.off('data', onData);
    socket.off('error', onError);
    socket.off('end', onEnd);
    clearTimeout(timer);
  };
  const onError = () => {
    done();
    socket.destroy();
  };
  const onEnd = () => {
    done();
    socket.destroy();
  };
  const onData = (chunk: Buffer) => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const n = Math.min(seen.length, HTTP2_PREFACE.length);
    const prefaceSoFar = seen.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n));
    if (prefaceSoFar && n < HTTP2_PREFACE.length) return; // could still be either: read on
    done();
    socket.pause();
    socket.unshift(seen);
    decide(prefaceSoFar);
  };
  const timer = setTimeout(onEnd, SNIFF_TIMEOUT_MS);
  timer.unref();
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('end', onEnd);
}
