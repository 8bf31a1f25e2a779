import type { AddressInfo } from 'node:net';
import type { Config } from '../config/config.js';
import { runMigrations } from '../db/index.js';
import type { EventValidator } from '../events/index.js';
import { API_PREFIX, createHttpServer, type NovaApp, type RouteAuth } from '../http/index.js';
import { closeHttpServer, Lifecycle, waitForDependency } from '../lifecycle/index.js';
import type { Logger } from '../logging/index.js';
import type { ServiceInstance } from '../module.js';
import type { TokenVerifier } from '../principal.js';
import { registerSocketRoute } from '../realtime/index.js';
import {
  createSyncClient,
  createSyncServer,
  type GrpcSyncClient,
  type SyncServer,
} from '../sync/grpc/index.js';
import { bindInProcess, type SyncApiDefinition } from '../sync/index.js';
import { sleep, type Worker, workerHealthCheck } from '../workers/index.js';
import { createProcessKernel, type EngineAdapters, type OwnedKernel } from './process-kernel.js';
import { dependenciesOf, type ModuleRegistry } from './registry.js';

// The registry sees every API untyped; each module's own deps type is checked where it is declared.
export type AnyApi = Record<string, (request: unknown, options?: unknown) => Promise<unknown>>;

/**
 * What a process boots with from the contracts package (the kernel names no
 * service): the event validator, and which service's API backs the edge's
 * token verification.
 */
export interface BootContracts {
  validate: EventValidator;
  edge?: {
    /** The service whose sync API verifies bearer tokens, wherever it runs. */
    service: string;
    verifier(api: AnyApi): TokenVerifier;
  };
}

/** One route of the process and who serves it (`null`: the kernel's realtime socket). */
export interface RouteOwner {
  service: string | null;
  method: string;
  /** Fastify's pattern, prefix included (`/api/v1/posts/:id`). */
  url: string;
  auth: RouteAuth;
  acceptQueryToken: boolean;
}

/** A realtime channel and the service that registered it: the gateway sends its client frames to that service's process. */
export interface ChannelOwner {
  channel: string;
  service: string;
}

export interface BootOptions {
  config: Config;
  logger: Logger;
  /** Every module the binary (or test) can run; `config.target` picks among them. */
  registry: ModuleRegistry;
  contracts: BootContracts;
  /** Engine adapters the binary ships (the kernel imports none). */
  adapters?: EngineAdapters;
  /** Run pending migrations first (default: in the all-in-one shape only). */
  migrate?: boolean;
  /**
   * Sync APIs given rather than served, by service: a test's stand-in for a
   * service it does not start. They count as local dependencies.
   */
  provided?: Record<string, AnyApi>;
  /** Embedded database tuning (tests: an in-memory PGlite from a template). */
  pglite?: Parameters<typeof createProcessKernel>[2]['pglite'];
  /** OpenAPI title of the HTTP server. */
  title?: string;
}

export interface BootedModules {
  app: NovaApp;
  kernel: OwnedKernel;
  services: Record<string, ServiceInstance>;
  /** Every sync API this process can call, by service: in-process bindings, gRPC clients, provided ones. */
  apis: Record<string, AnyApi>;
  /** Consumers and scheduled jobs of the services (relays are the kernel's). */
  workers: Worker[];
  /** Every public route the services (and the socket) registered, with its owner: the gateway's routing table is made from it. */
  routes: readonly RouteOwner[];
  /** Every realtime channel the services registered, with its owner (the gateway's socket routing is made from it). */
  channels: readonly ChannelOwner[];
  /** Starts the outbox relays and the services' workers (part of start(); alone: a process that does not listen). */
  startWorkers(): Promise<void>;
  /** Starts relays and workers, the gRPC server, then listens; resolves to the bound HTTP address. */
  start(): Promise<string>;
  /** The port of the gRPC server for this process's sync APIs once started: NOVA_GRPC_PORT's, else the HTTP port when shared (undefined: none). */
  grpcPort(): number | undefined;
  /** Ordered, deadline-bounded stop: HTTP (drain), workers (checkpoint), services, kernel (pools). */
  stop(): Promise<void>;
  lifecycle: Lifecycle;
}

/**
 * Wires the modules of the configured target onto one kernel and one HTTP
 * server: the one composition root of production and of tests. No business
 * logic lives here: services bring routes, workers and their sync API; each
 * dependency is bound in-process or to a gRPC client, and the edge's token
 * verifier is the API the contracts name (wherever it runs).
 */
export async function bootModules(options: BootOptions): Promise<BootedModules> {
  const { config, logger, registry, contracts } = options;
  const provided = options.provided ?? {};
  const modules = registry.resolveTarget(config.target);
  const remote = registry.resolveRemoteDependencies(modules, config.serviceUrls, Object.keys(provided));
  // The edge verifies tokens with one service's API: a process without it that serves routes needs its address.
  const edge = contracts.edge;
  if (edge && !modules.some((m) => m.name === edge.service) && !provided[edge.service]) {
    const url = config.serviceUrls[edge.service];
    if (url) remote[edge.service] ??= url;
  }
  const kernel = createProcessKernel(config, logger, {
    validate: contracts.validate,
    ...(options.adapters ? { adapters: options.adapters } : {}),
    ...(options.pglite ? { pglite: options.pglite } : {}),
  });
  const services: Record<string, ServiceInstance> = {};
  const channelOwners: ChannelOwner[] = [];
  const apis: Record<string, AnyApi> = { ...provided };
  const clients: GrpcSyncClient<SyncApiDefinition>[] = [];
  // The CDC step per service outbox (Kafka); the embedded log needs none.
  const relays: Worker[] = [];
  let grpcServer: SyncServer | undefined;
  let servedNames: string[] = [];
  let grpcPort: number | undefined;
  try {
    for (const [service, url] of Object.entries(remote)) {
      const client = createSyncClient(registry.syncApiOf(service), {
        url,
        caller: config.target,
        internalToken: config.grpc.internalToken,
        logger: logger.child({ component: 'sync-client', upstream: service }),
        metrics: kernel.metrics,
      });
      clients.push(client);
      apis[service] = client as unknown as AnyApi;
      if (service === edge?.service) {
        // Every authenticated route needs it: a process that could verify no token must not report ready.
        await waitForDependency({
          dependency: `the token verifier (${service}'s sync API)`,
          where: url,
          probe: () => client.ping(2000),
          timeoutMs: config.startupTimeoutMs,
          logger,
        });
      }
      // Optional: the process still answers what needs no upstream while one is away.
      kernel.health.register({
        name: `sync-${service}`,
        required: false,
        check: async () => {
          if (client.circuit === 'open') throw new Error(`circuit to ${service} is open`);
          await client.ping(1000);
        },
      });
    }
    // Relays and consumers need the brokers: without them no event leaves the outbox.
    // Checked before the databases, so a process that cannot work refuses before it migrates anything.
    if (config.kafka && kernel.eventLog.check) {
      const check = kernel.eventLog.check.bind(kernel.eventLog);
      await waitForDependency({
        dependency: 'the event log (Kafka)',
        where: config.kafka.brokers.join(','),
        probe: () => check(),
        timeoutMs: config.startupTimeoutMs,
        logger,
      });
    }
    const migrate = options.migrate ?? config.target === 'all';
    for (const module of modules) {
      const database = await kernel.databases.open(module.name);
      kernel.health.register({ name: `db-${module.name}`, required: true, check: () => database.ping() });
      if (migrate) await runMigrations(database, module.migrationsDir, logger.child({ module: module.name }));
      const relay = kernel.eventLog.relay(database);
      if (relay) relays.push(relay);
      // An optional dependency neither local nor addressed stays absent: the module falls back.
      const deps = Object.fromEntries(
        dependenciesOf(module)
          .filter((d) => apis[d] !== undefined)
          .map((d) => [d, apis[d]]),
      );
      const channelsBefore = new Set(kernel.realtime.channels());
      const instance = await module.init(kernel, deps as never);
      for (const channel of kernel.realtime.channels())
        if (!channelsBefore.has(channel)) channelOwners.push({ channel, service: module.name });
      services[module.name] = instance;
      if (module.syncApi) apis[module.name] = bindInProcess(module.syncApi, instance.api as never) as AnyApi;
    }
    const served = modules.flatMap((m) =>
      m.syncApi ? [{ definition: m.syncApi, handlers: services[m.name]?.api as AnyApi }] : [],
    );
    servedNames = served.map((a) => a.definition.service);
    if ((config.grpc.port !== undefined || config.grpc.sharedPort) && served.length > 0) {
      grpcServer = createSyncServer({
        apis: served,
        internalToken: config.grpc.internalToken,
        acceptedInternalTokens: config.grpc.acceptedInternalTokens,
        logger: logger.child({ component: 'sync-server' }),
        metrics: kernel.metrics,
      });
    }
  } catch (error) {
    for (const client of clients) client.close();
    // Bounded: a client still retrying an unreachable dependency must not delay the refusal.
    await Promise.race([kernel.close().catch(() => undefined), sleep(5000)]);
    throw error;
  }
  const edgeApi = edge ? apis[edge.service] : undefined;
  const verifier: TokenVerifier | undefined = edge && edgeApi ? edge.verifier(edgeApi) : undefined;
  const app = await createHttpServer({
    config,
    logger,
    metrics: kernel.metrics,
    health: kernel.health,
    getTokenVerifier: () => verifier,
    title: options.title ?? 'Nova API',
    version: '1',
  });
  const routeOwners: RouteOwner[] = [];
  const recordOwner = (scope: NovaApp, service: string | null) =>
    scope.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) {
        // Fastify derives HEAD from GET (here and at the gateway): whoever serves the GET serves it.
        if (method === 'HEAD') continue;
        routeOwners.push({
          service,
          method,
          url: route.url,
          auth: route.config?.auth ?? 'required',
          acceptQueryToken: route.config?.acceptQueryToken === true,
        });
      }
    });
  // The realtime socket: every process with an edge holds sockets; services only register channels.
  await app.register(
    async (scope) => {
      recordOwner(scope as NovaApp, null);
      await registerSocketRoute(
        scope as NovaApp,
        kernel.realtime,
        () => verifier,
        config.realtime.maxFrameBytes,
      );
    },
    { prefix: API_PREFIX },
  );
  for (const [name, instance] of Object.entries(services)) {
    const routes = instance.routes;
    if (routes?.root)
      await app.register(async (scope) => {
        recordOwner(scope as NovaApp, name);
        await routes.root?.(scope as NovaApp);
      });
    if (routes?.api)
      await app.register(
        async (scope) => {
          recordOwner(scope as NovaApp, name);
          await routes.api?.(scope as NovaApp);
        },
        { prefix: API_PREFIX },
      );
  }
  await app.ready();
  const workers = Object.values(services).flatMap((s) => s.workers ?? []);
  // Readiness reflects every worker: a consumer failing on every event or a stuck relay is a 503 naming it.
  for (const worker of [...relays, ...workers]) kernel.health.register(workerHealthCheck(worker));
  // Steps stop in reverse registration order: HTTP, workers, services, kernel.
  const lifecycle = new Lifecycle({ logger, timeoutMs: config.shutdownTimeoutMs });
  lifecycle.onStop('kernel', () => kernel.close());
  lifecycle.onStop('sync clients', async () => {
    for (const client of clients) client.close();
  });
  lifecycle.onStop('services', async () => {
    for (const instance of Object.values(services)) await instance.close?.();
  });

  let workersStarted = false;
  const startWorkers = async (): Promise<void> => {
    if (workersStarted) return;
    workersStarted = true;
    // Started relays first so they stop last: consumers and HTTP drain before the final flush.
    for (const relay of relays) {
      await relay.start();
      lifecycle.onStop(`relay ${relay.name}`, (deadline) => relay.stop(deadline));
    }
    for (const worker of workers) {
      await worker.start();
      lifecycle.onStop(`worker ${worker.name}`, (deadline) => worker.stop(deadline));
    }
  };

  return {
    app,
    kernel,
    services,
    apis,
    workers,
    routes: routeOwners,
    channels: channelOwners,
    lifecycle,
    grpcPort: () => grpcPort,
    startWorkers,
    async start() {
      await startWorkers();
      const server = grpcServer;
      const shared = server !== undefined && config.grpc.sharedPort;
      if (server && shared) server.shareHttpPort(app.server);
      if (server && config.grpc.port !== undefined) {
        grpcPort = await server.listen(config.http.host, config.grpc.port);
        logger.info({ port: grpcPort, apis: servedNames }, 'sync APIs served over gRPC on their own port');
      }
      // Registered before HTTP so it stops after it: other processes' calls finish while HTTP drains.
      if (server && !shared) lifecycle.onStop('grpc', (deadline) => server.stop(deadline));
      const address = await app.listen({ port: config.http.port, host: config.http.host });
      if (server && shared) {
        grpcPort ??= (app.server.address() as AddressInfo).port;
        logger.info({ port: grpcPort, apis: servedNames }, 'sync APIs served over gRPC on the HTTP port');
        // One listener: its close waits for the gRPC connections too, so both drain together.
        lifecycle.onStop('http', async (deadline) => {
          await Promise.all([closeHttpServer(app, deadline), server.stop(deadline)]);
        });
      } else {
        lifecycle.onStop('http', (deadline) => closeHttpServer(app, deadline));
      }
      return address;
    },
    async stop() {
      const code = await lifecycle.shutdown('stop');
      if (code !== 0) throw new Error('shutdown did not complete cleanly (see the log)');
    },
  };
}
