import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import replyFrom from '@fastify/reply-from';
import { revocationStore } from '@nova/contracts';
import {
  type Config,
  closeHttpServer,
  counter,
  createHealthRegistry,
  createHttpServer,
  createMetricsRegistry,
  createRateLimiter,
  createStores,
  Lifecycle,
  type Logger,
  type NovaApp,
  startTracing,
} from '@nova/kernel';
import { type ChannelOwner, TargetError } from '@nova/kernel/boot';
import { channelRouting, loadChannelTable } from './channel-table.js';
import { gatewaySettings } from './config.js';
import { createMergedOpenApi } from './merged-openapi.js';
import { registerProxyRoutes, UPGRADE, type UpgradeRequest } from './proxy-routes.js';
import { createRateLimits } from './rate-limits.js';
import { createRemoteTokenVerifier } from './remote-token-verifier.js';
import { type GatewayRoute, loadRouteTable } from './route-table.js';
import { createSocketRelay } from './socket-relay.js';
import { createUpstream, type Upstream, upstreamMetrics } from './upstream.js';

export interface GatewayOptions {
  /** The route table (default: the generated one, every module's routes). */
  routes?: readonly GatewayRoute[];
  /** Which service owns each realtime channel (default: the generated table, every module's channels). */
  channels?: readonly ChannelOwner[];
}

export interface BootedGateway {
  app: NovaApp;
  upstreams: Readonly<Record<string, Upstream>>;
  /** Listens on HOST:PORT; resolves to the bound address. */
  start(): Promise<string>;
  stop(): Promise<void>;
  lifecycle: Lifecycle;
}

const HEALTH_PROBE_MS = 1000;
/** The one service whose keys verify tokens; it publishes them at /.well-known/jwks.json. */
const TOKEN_ISSUER_SERVICE = 'auth';

/**
 * `nova start --target=gateway`: the one public entry of the distributed
 * shape. It runs no service: each route of the table is passed to the
 * process of the service that registered it (NOVA_<SERVICE>_URL, the
 * process's one HTTP + gRPC port), after the edge has verified the token
 * (auth's keys and revocation feed, no call per request) and counted the
 * caller against its rate limits.
 */
export async function bootGateway(
  config: Config,
  logger: Logger,
  options: GatewayOptions = {},
): Promise<BootedGateway> {
  const settings = gatewaySettings(config);
  const routes = options.routes ?? loadRouteTable();
  const channels = options.channels ?? loadChannelTable();
  // Before the HTTP server: its request spans are the roots of the traces the services continue.
  const tracing = config.tracing
    ? startTracing({ ...config.tracing, attributes: { 'nova.target': config.target } }, logger)
    : undefined;
  const services = new Set(routes.flatMap((r) => (r.service ? [r.service] : [])));
  services.add(settings.socketService);
  for (const { service } of channels) services.add(service);
  for (const [service, url] of Object.entries(config.serviceUrls)) {
    if (!url.startsWith('http://'))
      throw new TargetError(
        `the gateway needs NOVA_${service.toUpperCase()}_URL as http://host:port (the service process's port), not ${url}`,
      );
  }
  const metrics = createMetricsRegistry();
  const health = createHealthRegistry();
  const stores = createStores(config, logger.child({ component: 'stores' }));
  for (const check of stores.healthChecks) health.register(check);
  const upstreamMetricSet = upstreamMetrics(metrics);
  const upstreams: Record<string, Upstream> = {};
  for (const service of services) {
    upstreams[service] = createUpstream(
      service,
      config.serviceUrls[service],
      settings,
      upstreamMetricSet,
      (name, state) => {
        const log = state === 'open' ? logger.warn : logger.info;
        log.call(logger, { upstream: name, circuit: state }, 'upstream circuit changed state');
      },
    );
    const url = config.serviceUrls[service];
    // Optional: one service away must not take the edge out of the balancer; it is reported, degraded.
    health.register({
      name: `upstream-${service}`,
      required: false,
      check: async () => {
        if (!url) throw new Error(`NOVA_${service.toUpperCase()}_URL is not set`);
        const response = await fetch(new URL('/health/live', url), {
          signal: AbortSignal.timeout(HEALTH_PROBE_MS),
        });
        if (response.status !== 200) throw new Error(`/health/live answered ${response.status}`);
      },
    });
  }
  const authUrl = config.serviceUrls[TOKEN_ISSUER_SERVICE];
  const verifier = authUrl
    ? createRemoteTokenVerifier({ authUrl, securityStore: revocationStore(stores.stores.security) })
    : undefined;
  const distinctUrls = [...new Set(Object.values(config.serviceUrls))];
  const openApi = createMergedOpenApi(distinctUrls, logger.child({ component: 'openapi' }));
  const relay = createSocketRelay({
    maxFrameBytes: config.realtime.maxFrameBytes,
    sendBufferBytes: config.realtime.sendBufferBytes,
    logger,
    routing: channelRouting(channels, upstreams, settings.socketService),
  });
  const limited = counter(metrics, {
    name: 'nova_gateway_rate_limited_total',
    help: 'Requests refused with 429 by the gateway, by limit (ip, user)',
    labelNames: ['scope'],
  });
  const rateLimits = createRateLimits(
    createRateLimiter(stores.stores.security),
    settings.rateLimit,
    logger.child({ component: 'rate-limits' }),
    (scope) => limited.inc({ scope }),
  );

  const app = await createHttpServer({
    config,
    logger,
    metrics,
    health,
    getTokenVerifier: () => verifier,
    title: 'Nova API',
    version: '1',
    openApiDocument: () => openApi.current(),
  });
  await app.register(replyFrom, {
    disableRequestLogging: true,
    // Connections per upstream origin, kept alive; bodies stream through.
    undici: { connections: 256, pipelining: 1, keepAliveTimeout: 30_000 },
  });
  await app.register(async (scope) =>
    registerProxyRoutes(scope as NovaApp, {
      routes,
      upstreamOf: (route) => upstreams[route.service ?? settings.socketService] as Upstream,
      relay,
      rateLimits,
      internalToken: config.grpc.internalToken,
      retries: settings.retries,
    }),
  );
  // Upgrades go through the same routing (hooks: auth, rate limits) as any request; the route relays them.
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    (request as UpgradeRequest)[UPGRADE] = { socket, head };
    const response = new ServerResponse(request);
    response.assignSocket(socket as never);
    app.routing(request, response);
  };
  app.server.on('upgrade', onUpgrade);
  app.addHook('preClose', (done) => {
    app.server.off('upgrade', onUpgrade);
    relay.closeAll();
    done();
  });
  await app.ready();

  const lifecycle = new Lifecycle({ logger, timeoutMs: config.shutdownTimeoutMs });
  lifecycle.onStop('tracing', async () => tracing?.shutdown());
  lifecycle.onStop('stores', () => stores.close());
  lifecycle.onStop('openapi', async () => openApi.stop());
  return {
    app,
    upstreams,
    lifecycle,
    async start() {
      const address = await app.listen({ port: config.http.port, host: config.http.host });
      lifecycle.onStop('http', (deadline) => closeHttpServer(app, deadline));
      logger.info({ address, upstreams: config.serviceUrls }, 'gateway is routing');
      return address;
    },
    async stop() {
      const code = await lifecycle.shutdown('stop');
      if (code !== 0) throw new Error('gateway shutdown did not complete cleanly (see the log)');
    },
  };
}
