import webPush from 'web-push';
import type { NotificationsContext } from '../context.js';
import type { ClaimedPush } from '../store/delivery-queue.js';
import { isPublicAddress } from './public-address.js';

/** What the push service answered, as the queue acts on it. */
export type PushOutcome =
  | { kind: 'sent' }
  /** 404/410: the subscription expired or was unsubscribed; drop it. */
  | { kind: 'gone'; reason: string }
  /** 429, 5xx, a network error or a timeout: try again later (`afterMs` from Retry-After). */
  | { kind: 'retry'; reason: string; afterMs?: number }
  /** Any other answer: this push will never be accepted; drop it. */
  | { kind: 'rejected'; reason: string };

/**
 * Sends one push: the payload encrypted to the subscription's keys (RFC 8291,
 * aes128gcm) and signed with the VAPID key (RFC 8292), both by `web-push`'s
 * generateRequestDetails; the request itself goes out through fetch with a
 * timeout, so the answer's status decides (web-push's own sender insists on
 * https and would hide the status behind its error type).
 */
export function createPushSender(
  ctx: Pick<NotificationsContext, 'vapid' | 'settings' | 'resolveHost' | 'fetch'>,
) {
  const { vapid, settings } = ctx;
  return async function send(push: ClaimedPush): Promise<PushOutcome> {
    const url = new URL(push.endpoint);
    if (!settings.push.insecureEndpoints) {
      // Checked again at send time: a name may resolve elsewhere since it was registered.
      const addresses = await ctx.resolveHost(url.hostname.replace(/^\[|\]$/g, '')).catch(() => []);
      if (addresses.length === 0) return { kind: 'retry', reason: 'endpoint host does not resolve' };
      if (!addresses.every(isPublicAddress))
        return { kind: 'gone', reason: 'endpoint is not on a public address' };
    }
    const details = webPush.generateRequestDetails(
      { endpoint: push.endpoint, keys: { p256dh: push.p256dh, auth: push.auth } },
      JSON.stringify(push.payload),
      {
        vapidDetails: vapid,
        TTL: settings.push.ttlSeconds,
        // A newer state of the same group replaces an undelivered older one at the push service.
        topic: Buffer.from(push.notificationId.replace(/-/g, ''), 'hex').toString('base64url'),
        urgency: 'normal',
      },
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(details.headers)) {
      if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
    }
    let response: Response;
    try {
      response = await ctx.fetch(push.endpoint, {
        method: details.method,
        headers,
        body: details.body as unknown as Uint8Array,
        redirect: 'manual',
        signal: AbortSignal.timeout(settings.push.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : describe(error);
      return { kind: 'retry', reason };
    }
    const status = response.status;
    if (status >= 200 && status < 300) return { kind: 'sent' };
    if (status === 404 || status === 410) return { kind: 'gone', reason: `push service answered ${status}` };
    if (status === 429 || status >= 500) {
      const afterMs = retryAfterMs(response.headers.get('retry-after'));
      return { kind: 'retry', reason: `push service answered ${status}`, ...(afterMs ? { afterMs } : {}) };
    }
    return { kind: 'rejected', reason: `push service answered ${status}` };
  };
}

export type PushSender = ReturnType<typeof createPushSender>;

/** Retry-After as seconds or an HTTP date, capped at an hour. */
function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - Date.now();
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return Math.min(ms, 3_600_000);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
