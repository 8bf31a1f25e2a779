import { randomUUID } from 'node:crypto';
import { NOVA_CONTRACTS } from '@nova/contracts';
import type { EngineAdapters } from '@nova/kernel/boot';
import { type DatabaseKind, type StartedModules, startModules } from '@nova/kernel/testing';
import { REGISTRY } from '../../apps/nova/src/modules.js';
import { NovaClient } from '../../packages/client/src/index.js';

/** The all-in-one app (every module of the registry) in this process, listening on 127.0.0.1. */
export function startNovaInProcess(
  options: {
    database?: DatabaseKind;
    redis?: boolean;
    env?: Record<string, string>;
    adapters?: EngineAdapters;
  } = {},
): Promise<StartedModules> {
  return startModules({
    modules: Object.values(REGISTRY.modules),
    contracts: NOVA_CONTRACTS,
    database: options.database ?? 'pglite',
    ...(options.redis ? { redis: true } : {}),
    ...(options.adapters ? { adapters: options.adapters } : {}),
    env: {
      ARGON2_MEMORY_KIB: '8192',
      ARGON2_TIME_COST: '1',
      REGISTER_MAX_PER_IP: '1000000',
      RTMP_PORT: '0',
      ...options.env,
    },
  });
}

export interface SignedUpUser {
  id: string;
  username: string;
  password: string;
  client: NovaClient;
}

/** A new account, registered and logged in through the SDK (a fresh client). */
export async function signUp(baseUrl: string, prefix = 'sdk'): Promise<SignedUpUser> {
  const username = `${prefix}_${randomUUID().slice(0, 8)}`;
  const password = 'a long enough password';
  const client = new NovaClient({ baseUrl });
  const user = await client.register({ email: `${username}@example.com`, username, password });
  await client.login(username, password);
  return { id: user.id, username, password, client };
}

/** Another logged-in client of the same account (a second device has its own session). */
export async function logIn(baseUrl: string, user: SignedUpUser): Promise<NovaClient> {
  const client = new NovaClient({ baseUrl });
  await client.login(user.username, user.password);
  return client;
}
