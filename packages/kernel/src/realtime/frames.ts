/** A frame on the socket, both ways: JSON `{channel, type, data}` (API.md "Realtime"). */
export interface Frame {
  channel: string;
  type: string;
  data?: unknown;
}

/**
 * Close codes of the socket. 1001/1008/1009 are the standard ones; the
 * 4xxx codes are Nova's (RFC 6455 leaves 4000-4999 to applications), named
 * after the HTTP status they mirror so a client can tell "log in again"
 * from "reconnect later".
 */
export const CloseCode = {
  /** The server is shutting down: reconnect (elsewhere). */
  goingAway: 1001,
  /** Client frames kept coming far over the rate limit. */
  policyViolation: 1008,
  /** A client frame over NOVA_WS_MAX_FRAME_BYTES (closed by the ws library). */
  tooBig: 1009,
  /** The access token was revoked (logout) or expired: refresh it, then reconnect. */
  unauthenticated: 4401,
  /** The client did not read fast enough: more than NOVA_WS_SEND_BUFFER_BYTES were queued for it. */
  slowConsumer: 4008,
} as const;

/** Codes of `{channel:'error', type:<code>, data:{code, message}}` frames. */
export type ErrorCode =
  | 'invalid_frame'
  | 'unknown_channel'
  | 'unknown_type'
  | 'invalid_data'
  | 'forbidden'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

export function errorFrame(
  code: ErrorCode,
  message: string,
  about?: { channel?: string; type?: string },
): Frame {
  return { channel: 'error', type: code, data: { code, message, ...about } };
}

/** The frame a client sent, or why it is not one; never throws. */
export function parseFrame(raw: string): Frame | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { error: 'The frame is not JSON.' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: 'A frame is a JSON object {channel, type, data}.' };
  const { channel, type, data } = value as Record<string, unknown>;
  if (typeof channel !== 'string' || channel.length === 0 || channel.length > 64)
    return { error: 'A frame needs a "channel" string.' };
  if (typeof type !== 'string' || type.length === 0 || type.length > 64)
    return { error: 'A frame needs a "type" string.' };
  return { channel, type, data };
}
