import type { ChannelDefinition, Frame, Realtime, RealtimeTarget } from '@nova/kernel';

/**
 * The kernel's Realtime as the commands see it, recording what they publish
 * (for suites without sockets; the socket suites use the real one).
 */
export interface RecordingRealtime extends Realtime {
  published: { target: RealtimeTarget; frame: Frame }[];
  channels: ChannelDefinition[];
  /** Frames published to one user (any device, or the one given), in order. */
  framesFor(userId: string, deviceId?: string): Frame[];
}

export function createRecordingRealtime(): RecordingRealtime {
  const published: RecordingRealtime['published'] = [];
  const channels: ChannelDefinition[] = [];
  return {
    published,
    channels,
    register: (channel) => void channels.push(channel),
    async publish(target, frame) {
      published.push({ target, frame });
    },
    get presence(): Realtime['presence'] {
      throw new Error('presence is not recorded');
    },
    connections: 0,
    framesFor: (userId, deviceId) =>
      published
        .filter(({ target }) => 'userId' in target && target.userId === userId)
        .filter(
          ({ target }) => deviceId === undefined || ('deviceId' in target && target.deviceId === deviceId),
        )
        .map(({ frame }) => frame),
  };
}
