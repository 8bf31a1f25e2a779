import {
  API_PREFIX,
  bindInProcess,
  type Config,
  closeHttpServer,
  createHttpServer,
  Lifecycle,
  type Logger,
  type NovaApp,
  runMigrations,
  type ServiceInstance,
  type SyncApiDefinition,
  sleep,
  type TokenVerifier,
  type Worker,
  waitForDependency,
  workerHealthCheck,
} from '@nova/kernel';
import { createSyncClient, createSyncServer, type GrpcSyncClient, type SyncServer } from '@nova/kernel/grpc';
import { createKernel, type OwnedKernel } from './kernel.js';
import { MODULES, resolveRemoteDependencies, resolveTarget, TargetError } from './modules.js';

// The registry sees every API untyped; each module's own deps type is checked where it is declared.
type AnyApi = Record<string, (request: unknown, options?: unknown) => Promise<unknown>>;

export interface BootedNova {
  app: NovaApp;
  kernel: OwnedKernel;
  services: Record<string, ServiceInstance>;
  /** Every sync API this process can call, by service: in-process bindings and gRPC clients. */
  apis: Record<string, AnyApi>;
  /** Consumers and scheduled jobs of the services (relays are the kernel's). */
  workers: Worker[];
  /** Starts relays and workers, the gRPC server, then listens; resolves to the bound HTTP address. */
  start(): Promise<string>;
  /** The port of the gRPC server for this process's sync APIs, once started (undefined: none). */
  grpcPort(): number | undefined;
  /** Ordered, deadline-bounded stop: HTTP (drain), workers (checkpoint), services, kernel (pools). */
  stop(): Promise<void>;
  lifecycle: Lifecycle;
}

export interface BootOptions {
  /** Run pending migrations first (default: in the all-in-one shape only). */
  migrate?: boolean;
}

function syncApiOf(service: string): SyncApiDefinition {
  const definition = MODULES[service]?.syncApi;
  if (!definition) throw new TargetError(`module "${service}" declares no sync API to call`);
  return definition;
}

/**
 * Wires the modules of the configured target onto one kernel and one HTTP
 * server. No business logic lives here: services bring routes, workers and
 * their sync API; each dependency is bound in-process or to a gRPC client,
 * and auth's `verifyToken` (wherever it runs) backs the edge.
 */
export async function bootNova(
  config: Config,
  logger: Logger,
  options: BootOptions = {},
): Promise<BootedNova> {
  const modules = resolveTarget(config.target);
  const remote = resolveRemoteDependencies(modules, config.serviceUrls);
  // The edge verifies tokens with auth's API: a process without auth that serves routes needs its address.
  if (!modules.some((m) => m.name === 'auth') && config.serviceUrls.auth)
    remote.auth ??= config.serviceUrls.auth;
  const kernel = createKernel(config, logger);
  const services: Record<string, ServiceInstance> = {};
  const apis: Record<string, AnyApi> = {};
  const clients: GrpcSyncClient<SyncApiDefinition>[] = [];
  // The CDC step per service outbox (Kafka); the embedded log needs none.
  const relays: Worker[] = [];
  let grpcServer: SyncServer | undefined;
  let servedNames: string[] = [];
  let grpcPort: number | undefined;
  try {
    for (const [service, url] of Object.entries(remote)) {
      const client = createSyncClient(syncApiOf(service), {
        url,
        caller: config.target,
        internalToken: config.grpc.internalToken,
        logger: logger.child({ component: 'sync-client', upstream: service }),
        metrics: kernel.metrics,
      });
      clients.push(client);
      apis[service] = client as unknown as AnyApi;
      if (service === 'auth') {
        // Every authenticated route needs it: a process that could verify no token must not report ready.
        await waitForDependency({
          dependency: "the token verifier (auth's sync API)",
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
      const deps = Object.fromEntries(module.dependsOn.map((d) => [d, apis[d]]));
      const instance = await module.init(kernel, deps as never);
      services[module.name] = instance;
      if (module.syncApi) apis[module.name] = bindInProcess(module.syncApi, instance.api as never) as AnyApi;
    }
    const served = modules.flatMap((m) =>
      m.syncApi ? [{ definition: m.syncApi, handlers: services[m.name]?.api as AnyApi }] : [],
    );
    servedNames = served.map((a) => a.definition.service);
    if (config.grpc.port !== undefined && served.length > 0) {
      grpcServer = createSyncServer({
        apis: served,
        internalToken: config.grpc.internalToken,
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
  const verifyToken = apis.auth?.verifyToken;
  const verifier: TokenVerifier | undefined = verifyToken
    ? (token) => verifyToken({ token }) as ReturnType<TokenVerifier>
    : undefined;
  const app = await createHttpServer({
    config,
    logger,
    metrics: kernel.metrics,
    health: kernel.health,
    getTokenVerifier: () => verifier,
    title: 'Nova API',
    version: '1',
  });
  for (const instance of Object.values(services)) {
    const routes = instance.routes;
    if (routes?.root) await app.register(async (scope) => routes.root?.(scope as NovaApp));
    if (routes?.api)
      await app.register(async (scope) => routes.api?.(scope as NovaApp), { prefix: API_PREFIX });
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

  return {
    app,
    kernel,
    services,
    apis,
    workers,
    lifecycle,
    grpcPort: () => grpcPort,
    async start() {
      // Started relays first so they stop last: consumers and HTTP drain before the final flush.
      for (const relay of relays) {
        await relay.start();
        lifecycle.onStop(`relay ${relay.name}`, (deadline) => relay.stop(deadline));
      }
      for (const worker of workers) {
        await worker.start();
        lifecycle.onStop(`worker ${worker.name}`, (deadline) => worker.stop(deadline));
      }
      if (grpcServer) {
        const server = grpcServer;
        grpcPort = await server.listen(config.http.host, config.grpc.port ?? 0);
        // Registered before HTTP so it stops after it: other processes' calls finish while HTTP drains.
        lifecycle.onStop('grpc', (deadline) => server.stop(deadline));
        logger.info({ port: grpcPort, apis: servedNames }, 'sync APIs served over gRPC');
      }
      const address = await app.listen({ port: config.http.port, host: config.http.host });
      lifecycle.onStop('http', (deadline) => closeHttpServer(app, deadline));
      return address;
    },
    async stop() {
      const code = await lifecycle.shutdown('stop');
      if (code !== 0) throw new Error('shutdown did not complete cleanly (see the log)');
    },
  };
}
