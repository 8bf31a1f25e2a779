import { readFileSync } from 'node:fs';
import type { ChannelOwner } from '@nova/kernel/boot';
import type { Upstream } from './upstream.js';

/**
 * The realtime channels the modules register and the service that
 * registered each, as `npm run client:generate` recorded them (a test fails
 * while the file is stale): the gateway keeps no list of channels of its own.
 */
export function loadChannelTable(
  file = new URL('./generated/channels.json', import.meta.url),
): readonly ChannelOwner[] {
  return JSON.parse(readFileSync(file, 'utf8')) as ChannelOwner[];
}

/**
 * Which upstream a client frame goes to (ADR 035): the channels of a
 * service whose process is not the socket service's go to that process over
 * a socket of their own; everything else (and `socket`, `error`, unknown
 * channels) to the socket service's.
 */
export interface ChannelRouting {
  /** The upstream owning `channel` when it is another process than the socket service's; else undefined. */
  ownerOf(channel: string): Upstream | undefined;
  /** Whether any channel is served elsewhere (else frames need no look at all). */
  readonly split: boolean;
}

export function channelRouting(
  channels: readonly ChannelOwner[],
  upstreams: Readonly<Record<string, Upstream>>,
  socketService: string,
): ChannelRouting {
  const primaryUrl = upstreams[socketService]?.url;
  const owners = new Map<string, Upstream>();
  for (const { channel, service } of channels) {
    const upstream = upstreams[service];
    // The socket service's own process (or one it shares with the owner) handles the channel itself.
    if (!upstream || service === socketService || (upstream.url !== undefined && upstream.url === primaryUrl))
      continue;
    owners.set(channel, upstream);
  }
  return {
    ownerOf: (channel) => owners.get(channel),
    split: owners.size > 0,
  };
}

const CHANNEL_PREFIX = Buffer.from('{"channel":"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The `channel` of a server frame without parsing it: the kernel writes
 * every frame as `JSON.stringify({channel, type, data})`, so the name is the
 * first string; anything else is parsed. Undefined: not a frame.
 */
export function serverFrameChannel(data: Buffer): string | undefined {
  if (data.subarray(0, CHANNEL_PREFIX.length).equals(CHANNEL_PREFIX)) {
    const end = data.indexOf(QUOTE, CHANNEL_PREFIX.length);
    // An escaped character in the name: let JSON.parse read it.
    if (end > 0 && data.subarray(CHANNEL_PREFIX.length, end).indexOf(BACKSLASH) === -1)
      return data.toString('utf8', CHANNEL_PREFIX.length, end);
  }
  return clientFrameAddress(data)?.channel;
}

/** A client frame's channel and type (any key order), or undefined when it is no frame (its process says so). */
export function clientFrameAddress(data: Buffer): { channel: string; type: string } | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { channel, type } = value as { channel?: unknown; type?: unknown };
  return typeof channel === 'string' && typeof type === 'string' ? { channel, type } : undefined;
}
