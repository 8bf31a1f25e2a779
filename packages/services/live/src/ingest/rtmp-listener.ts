import { createServer, type Server, type Socket } from 'node:net';
import { type PublishGate, RtmpPublishSession } from './rtmp-publish-session.js';

/** The RTMP TCP listener: one session per connection, every socket cut on stop. */
export class RtmpListener {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(gate: PublishGate, onGateError: (error: unknown) => void) {
    this.#server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.setNoDelay(true);
      new RtmpPublishSession(socket, gate, onGateError);
    });
  }

  /** Resolves to the port it listens on (RTMP_PORT, or the one picked for 0). */
  async listen(port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address();
    return typeof address === 'object' && address ? address.port : port;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }
}
