// Types for the one part of node-media-server 4.4 that live uses: its RTMP
// protocol engine (handshake, chunk streams, AMF0 commands, FLV tag parsing).
// The package ships JavaScript with JSDoc only; these name what
// rtmp-publish-protocol.ts touches and nothing more.
declare module 'node-media-server/src/protocol/rtmp.js' {
  namespace Rtmp {
    export interface AVPacket {
      /** 8 audio, 9 video, 18 script data (FLV tag types). */
      codec_type: number;
      /** FLV codec id: video 7 = H.264; audio 10 = AAC. */
      codec_id: number;
      /** 0 audio header, 1 audio frame, 2 video header, 3 key frame, 4 frame, 5 metadata. */
      flags: number;
      pts: number;
      dts: number;
      size: number;
      data: Buffer;
    }

    export interface InvokeMessage {
      cmd: string;
      transId: number;
      streamName: string;
    }
  }

  class Rtmp {
    streamApp: string;
    streamName: string;
    streamId: number;
    parserPacket: { header: { stream_id: number } };
    onConnectCallback: (request: { app: string; name: string }) => void;
    onPlayCallback: () => void;
    onPushCallback: () => void;
    onPacketCallback: (packet: Rtmp.AVPacket) => void;
    onOutputCallback: (buffer: Buffer) => void;
    /** Feeds bytes from the socket; a string is a protocol error. */
    parserData(buffer: Buffer): string | null;
    onPublish(invokeMessage: Rtmp.InvokeMessage): void;
    onPlay(invokeMessage: Rtmp.InvokeMessage): void;
    /** Answers NetStream.Publish.Start on `streamId`. */
    respondPublish(): void;
    sendStatusMessage(streamId: number, level: string, code: string, description: string): void;
  }
  export = Rtmp;
}

declare module 'node-media-server/src/protocol/flv.js' {
  const Flv: {
    createHeader(hasAudio: boolean, hasVideo: boolean): Buffer;
    /** One FLV tag (header, payload, previous-tag size) for a packet. */
    createMessage(packet: import('node-media-server/src/protocol/rtmp.js').AVPacket): Buffer;
  };
  export = Flv;
}
