import type { WebSocket } from 'ws';
import type { Principal } from '../principal.js';
import { CloseCode, type Frame } from './frames.js';
import { TokenBucket } from './token-bucket.js';

export interface ConnectionLimits {
  sendBufferBytes: number;
  framesPerSecond: number;
  frameBurst: number;
}

/** How long a close handshake may take before the TCP connection is cut (a slow peer may never read it). */
const CLOSE_GRACE_MS = 5000;

/**
 * One open socket: bounded sending, the client-frame budget, liveness. The
 * hub owns routing; this class owns what protects the process from one peer.
 */
export class Connection {
  readonly userId: string;
  readonly sessionId: string;
  readonly rooms = new Set<string>();
  /** What channels asked to run when the socket closes (SocketContext.onClose). */
  readonly closeListeners: (() => void)[] = [];
  alive = true;
  /** The code this server closed with (undefined: the peer closed, or the connection broke). */
  closedWith: number | undefined;
  #dropped = 0;
  readonly #bucket: TokenBucket;

  constructor(
    readonly id: string,
    readonly socket: WebSocket,
    public principal: Principal,
    readonly token: string,
    readonly deviceId: string | undefined,
    private readonly limits: ConnectionLimits,
  ) {
    this.userId = principal.userId;
    this.sessionId = principal.sessionId;
    this.#bucket = new TokenBucket(limits.framesPerSecond, limits.frameBurst);
  }

  get open(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  send(frame: Frame): void {
    this.sendText(JSON.stringify(frame));
  }

  /**
   * Queues already-serialised JSON. A peer that lets more than the send
   * buffer pile up is closed (4008) instead of growing this process's memory;
   * what is queued is dropped with the connection.
   */
  sendText(text: string): void {
    if (!this.open) return;
    if (this.socket.bufferedAmount + Buffer.byteLength(text) > this.limits.sendBufferBytes) {
      this.close(CloseCode.slowConsumer, 'slow consumer: send buffer full');
      return;
    }
    this.socket.send(text);
  }

  /** Whether a client frame fits the budget; a flood far over it closes the socket (1008). */
  admit(): 'ok' | 'limited' | 'closed' {
    if (this.#bucket.take()) {
      this.#dropped = 0;
      return 'ok';
    }
    this.#dropped += 1;
    if (this.#dropped > this.limits.frameBurst) {
      this.close(CloseCode.policyViolation, 'too many frames');
      return 'closed';
    }
    return 'limited';
  }

  /** Only the first frame refused in a row gets an error frame: a flood must not be echoed back. */
  get firstRefusal(): boolean {
    return this.#dropped === 1;
  }

  close(code: number, reason: string): void {
    if (this.socket.readyState >= this.socket.CLOSING) return;
    this.closedWith = code;
    this.socket.close(code, reason);
    // The close frame waits behind whatever is queued; a peer that never reads it is cut.
    const cut = setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS);
    cut.unref();
    this.socket.once('close', () => clearTimeout(cut));
  }
}
