import { type AuthApi, NOVA_CONTRACTS } from '@nova/contracts';
import { type DatabaseKind, type StartedModules, startModules } from '@nova/kernel/testing';
import { authModule } from '../../src/index.js';

export interface AuthShape {
  database?: DatabaseKind;
  /** Security (and cache) store in the shared Redis under a private prefix instead of in-process. */
  redis?: boolean;
  env?: Record<string, string>;
}

/** Auth as `nova start --target=auth` runs it (the kernel's harness), listening on a free port. */
export type AuthServer = StartedModules & { url: string; api: AuthApi };

export async function startAuth(shape: AuthShape = {}): Promise<AuthServer> {
  const nova = await startModules({
    modules: [authModule],
    contracts: NOVA_CONTRACTS,
    ...(shape.database ? { database: shape.database } : {}),
    ...(shape.redis ? { redis: true } : {}),
    // Cheap hashing; every test signs up from 127.0.0.1, so the registration throttle's own test sets its limit.
    env: { ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1', REGISTER_MAX_PER_IP: '100000', ...shape.env },
  });
  return { ...nova, url: nova.baseUrl as string, api: nova.apis.auth as unknown as AuthApi };
}
