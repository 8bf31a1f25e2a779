import websocket from '@fastify/websocket';
import { Type } from '@sinclair/typebox';
import { UnavailableError } from '../errors/errors.js';
import type { NovaApp } from '../http/app.js';
import type { TokenVerifier } from '../principal.js';
import { CloseCode } from './frames.js';
import type { RealtimeHub } from './realtime.js';

const BEARER = /^Bearer (.+)$/;

/**
 * GET /api/v1/ws (registered under the API prefix). The edge's auth hook
 * runs before the upgrade, so a missing or bad token answers 401 (and a
 * verifier outage 503) as plain HTTP; `?accessToken=` serves browsers.
 * Shutdown (Fastify's preClose) closes every socket with 1001.
 */
export async function registerSocketRoute(
  app: NovaApp,
  hub: RealtimeHub,
  getTokenVerifier: () => TokenVerifier | undefined,
  maxFrameBytes: number,
): Promise<void> {
  await app.register(websocket, {
    options: { maxPayload: maxFrameBytes },
    // Protocol errors of a client (e.g. a frame over maxPayload) are closed by ws with their
    // code (1009, 1002); they are the client's problem, not an error of this process.
    errorHandler(error, socket, request) {
      request.log.info({ err: error }, 'websocket client error');
      if (socket.readyState === socket.OPEN) socket.close(1011, 'internal error');
    },
    preClose(done) {
      hub.closeAll(CloseCode.goingAway, 'server shutting down');
      done();
    },
  });
  // An upgrade refused before the plugin's own hooks ran (the edge's 401/503)
  // leaves its raw socket open after the answer: end it, or it would hold the
  // server open until the shutdown deadline.
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.raw.headers.upgrade) request.raw.socket.end();
    done();
  });
  app.get(
    '/ws',
    {
      websocket: true,
      config: { acceptQueryToken: true },
      schema: {
        querystring: Type.Object({
          accessToken: Type.Optional(Type.String()),
          deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
        }),
      },
    },
    (socket, request) => {
      const principal = request.principal;
      const verify = getTokenVerifier();
      const token =
        BEARER.exec(request.headers.authorization ?? '')?.[1] ??
        (request.query as { accessToken?: string }).accessToken;
      // The auth hook let the upgrade through, so these are set; anything else is a bug, not a client error.
      if (!principal || !verify || !token)
        throw new UnavailableError('unavailable', 'The socket could not be authenticated.');
      hub.attach(socket, principal, token, verify, (request.query as { deviceId?: string }).deviceId);
    },
  );
}
