import type { Socket } from 'node:net';
import Rtmp from 'node-media-server/src/protocol/rtmp.js';

export type AVPacket = Rtmp.AVPacket;

/** What an accepted publish does with its media, and how it learns the publisher is gone. */
export interface Publication {
  onPacket(packet: AVPacket): void;
  onClose(): void;
}

/** Decides a publish: the Publication to feed, or undefined to refuse it. */
export type PublishGate = (
  app: string,
  key: string,
  session: RtmpPublishSession,
) => Promise<Publication | undefined>;

/**
 * node-media-server's protocol engine answers `NetStream.Publish.Start`
 * before it tells anyone a publish was asked for, so a refused key would
 * still have been told "published". This engine holds the answer back until
 * the gate has looked the key up, then answers Publish.Start or
 * Publish.BadName — the publisher learns at publish time, before it sends
 * any media. Playing (pulling RTMP) is not offered.
 */
class GatedRtmp extends Rtmp {
  constructor(private readonly requested: (key: string, streamId: number, accept: () => void) => void) {
    super();
  }

  override onPublish(message: Rtmp.InvokeMessage): void {
    // The chunk being parsed moves on while the gate looks the key up: keep this command's stream id.
    const streamId = this.parserPacket.header.stream_id;
    const key = String(message.streamName ?? '').split('?')[0] ?? '';
    this.requested(key, streamId, () => {
      this.streamName = key;
      this.streamId = streamId;
      this.respondPublish();
    });
  }

  override onPlay(): void {
    this.sendStatusMessage(
      this.parserPacket.header.stream_id,
      'error',
      'NetStream.Play.Failed',
      'Playback is HLS.',
    );
    this.onPlayCallback();
  }
}

/** One RTMP connection: handshake, one publish through the gate, media to the Publication. */
export class RtmpPublishSession {
  readonly #protocol: GatedRtmp;
  #state: 'connected' | 'deciding' | 'publishing' | 'closed' = 'connected';
  #publication: Publication | undefined;
  /** Media that arrived in the same read as the publish command, kept until the gate answers. */
  #early: AVPacket[] = [];

  constructor(
    readonly socket: Socket,
    private readonly gate: PublishGate,
    private readonly onGateError: (error: unknown) => void,
  ) {
    this.#protocol = new GatedRtmp((key, streamId, accept) => this.#decide(key, streamId, accept));
    this.#protocol.onOutputCallback = (buffer) => {
      if (!socket.destroyed) socket.write(buffer);
    };
    this.#protocol.onPacketCallback = (packet) => this.#packet(packet);
    this.#protocol.onPlayCallback = () => this.close();
    socket.on('data', (data: Buffer) => {
      if (this.#state === 'closed') return;
      const error = this.#protocol.parserData(data);
      if (error) this.close();
    });
    socket.on('close', () => this.#closed());
    socket.on('error', () => socket.destroy());
  }

  get publishing(): boolean {
    return this.#state === 'publishing';
  }

  /** Stops reading from the publisher (ffmpeg is behind): TCP pushes back on the encoder. */
  pause(paused: boolean): void {
    if (paused) this.socket.pause();
    else this.socket.resume();
  }

  close(): void {
    if (this.#state === 'closed') return;
    this.socket.end();
    // A publisher that does not close its side is cut after a moment.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  #decide(key: string, streamId: number, accept: () => void): void {
    if (this.#state !== 'connected') {
      this.close(); // one publish per connection
      return;
    }
    this.#state = 'deciding';
    this.gate(this.#protocol.streamApp, key, this).then(
      (publication) => {
        if (this.#state !== 'deciding') {
          publication?.onClose();
          return;
        }
        if (!publication) {
          this.#protocol.sendStatusMessage(
            streamId,
            'error',
            'NetStream.Publish.BadName',
            'Unknown or ended stream key.',
          );
          return this.close();
        }
        this.#publication = publication;
        this.#state = 'publishing';
        accept();
        for (const packet of this.#early.splice(0)) publication.onPacket(packet);
      },
      (error: unknown) => {
        this.onGateError(error);
        this.#protocol.sendStatusMessage(
          streamId,
          'error',
          'NetStream.Publish.Failed',
          'Ingest unavailable.',
        );
        this.close();
      },
    );
  }

  #packet(packet: AVPacket): void {
    if (this.#state === 'publishing') this.#publication?.onPacket(packet);
    else if (this.#state === 'deciding' && this.#early.length < 1000) this.#early.push(packet);
  }

  #closed(): void {
    const publication = this.#state === 'publishing' ? this.#publication : undefined;
    this.#state = 'closed';
    this.#early = [];
    publication?.onClose();
  }
}
