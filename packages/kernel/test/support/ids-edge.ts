import { Type } from '@sinclair/typebox';
import type { AnyApi, BootContracts } from '../../src/boot/index.js';
import { bindInProcess, defineSyncApi, UnauthenticatedError } from '../../src/index.js';

/**
 * The edge's token verifier for kernel tests that boot modules without auth: a stand-in `ids`
 * service whose sync API accepts the bearer token `user-<userId>` and refuses anything else.
 * Pass `provided: { ids }` and `contracts: idsEdgeContracts` to startModules.
 */
export const idsApi = defineSyncApi('ids', 1, {
  verify: {
    request: Type.Object({ token: Type.String() }),
    response: Type.Object({ userId: Type.String() }),
    idempotent: true,
  },
});

export const ids = bindInProcess(idsApi, {
  verify: async ({ token }) => {
    if (!token.startsWith('user-')) throw new UnauthenticatedError('invalid_token');
    return { userId: token.slice(5) };
  },
}) as unknown as AnyApi;

export const idsEdgeContracts: BootContracts = {
  validate: () => undefined,
  edge: {
    service: 'ids',
    verifier: (api) => async (token) => {
      const verify = api.verify as NonNullable<AnyApi[string]>;
      const { userId } = (await verify({ token })) as { userId: string };
      // The token stands for its session: a test can tell two tokens of one user apart.
      return { userId, sessionId: 's', tokenId: token, expiresAt: Date.now() / 1000 + 600 };
    },
  },
};
