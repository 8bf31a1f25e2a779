import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of an RTMP port that notes when the publisher's
 * first byte (the handshake's C0) arrives: the clock a "first RTMP packet →
 * …" figure starts from. It adds one loopback hop and nothing else.
 */
export interface RtmpTap {
  port: number;
  /** performance.now() of the first byte from the publisher, once one came. */
  firstByteAt(): number | undefined;
  close(): Promise<void>;
}

export async function startRtmpTap(targetPort: number): Promise<RtmpTap> {
  let firstByteAt: number | undefined;
  const open = new Set<Socket>();
  const server: Server = createServer((publisher) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [publisher, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      socket.on('error', () => {
        publisher.destroy();
        upstream.destroy();
      });
    }
    publisher.once('data', () => {
      firstByteAt ??= performance.now();
    });
    publisher.pipe(upstream);
    upstream.pipe(publisher);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    firstByteAt: () => firstByteAt,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
