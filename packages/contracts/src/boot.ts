import type { BootContracts } from '@nova/kernel/boot';
import type { AuthApi } from './apis/auth-api.js';
import { assertEventPayload } from './events/registry.js';

/**
 * What every Nova process boots with from the contracts (the app and each
 * service's tests alike): events checked against their declared payloads,
 * and bearer tokens verified by auth's API wherever auth runs.
 */
export const NOVA_CONTRACTS: BootContracts = {
  validate: assertEventPayload,
  edge: {
    service: 'auth',
    verifier: (api) => {
      const auth = api as unknown as AuthApi;
      return (token) => auth.verifyToken({ token });
    },
  },
};
