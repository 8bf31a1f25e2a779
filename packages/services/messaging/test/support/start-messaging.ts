import { NOVA_CONTRACTS } from '@nova/contracts';
import { UnauthenticatedError } from '@nova/kernel';
import type { AnyApi } from '@nova/kernel/boot';
import { type DatabaseKind, type StartedModules, startModules } from '@nova/kernel/testing';
import { messagingModule } from '../../src/index.js';
import { createSocialDouble, type MessagingSocialDouble } from './social-double.js';

/**
 * Auth's API as messaging's edge sees it, standing in for auth (not started
 * here): the bearer token `token-<userId>` is that user's.
 */
const authStandIn = {
  verifyToken: async ({ token }: { token: string }) => {
    if (!token.startsWith('token-')) throw new UnauthenticatedError('invalid_token');
    return {
      userId: token.slice(6),
      sessionId: 's',
      tokenId: 't',
      expiresAt: Math.floor(Date.now() / 1000) + 600,
    };
  },
} as unknown as AnyApi;

export interface StartedMessaging extends StartedModules {
  /** Social's stand-in: the accounts and blocks messaging sees. */
  social: MessagingSocialDouble;
}

/**
 * Messaging as `nova start --target=messaging` boots it, on a private
 * database, with auth's and social's stand-ins (tokens `token-<userId>`).
 */
export async function startMessaging(
  database: DatabaseKind,
  options: {
    listen?: boolean;
    workers?: boolean;
    redis?: boolean;
    env?: Record<string, string>;
    social?: MessagingSocialDouble;
  } = {},
): Promise<StartedMessaging> {
  const { social = createSocialDouble(), ...rest } = options;
  const started = await startModules({
    modules: [messagingModule],
    contracts: NOVA_CONTRACTS,
    database,
    provided: { auth: authStandIn, social: social as unknown as AnyApi },
    ...rest,
  });
  return Object.assign(started, { social });
}

/** A base64 key of `bytes` random-looking bytes, distinct per `seed`. */
export function fakeKey(seed: string, bytes = 32): string {
  return Buffer.from(seed.padEnd(bytes, '#').slice(0, bytes), 'utf8').toString('base64');
}
