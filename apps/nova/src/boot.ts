import { createRemoteTokenVerifier } from '@nova/gateway';
import {
  API_PREFIX,
  type Config,
  closeHttpServer,
  createHttpServer,
  Lifecycle,
  type Logger,
  type NovaApp,
  runMigrations,
  type ServiceInstance,
  type TokenVerifier,
  type Worker,
} from '@nova/kernel';
import { createKernel, type OwnedKernel } from './kernel.js';
import { resolveTarget } from './modules.js';

export interface BootedNova {
  app: NovaApp;
  kernel: OwnedKernel;
  services: Record<string, ServiceInstance>;
  /** Consumers and scheduled jobs of the services (relays are the kernel's). */
  workers: Worker[];
  /** Starts relays and workers, then listens; resolves to the bound address. */
  start(): Promise<string>;
  /** Ordered, deadline-bounded stop: HTTP (drain), workers (checkpoint), services, kernel (pools). */
  stop(): Promise<void>;
  lifecycle: Lifecycle;
}

export interface BootOptions {
  /** Run pending migrations first (default: in the all-in-one shape only). */
  migrate?: boolean;
}

/**
 * Wires the modules of the configured target onto one kernel and one HTTP
 * server. No business logic lives here: services bring routes, workers and
 * their sync API; the first module that exposes `verifyToken` backs the edge.
 */
export async function bootNova(
  config: Config,
  logger: Logger,
  options: BootOptions = {},
): Promise<BootedNova> {
  const modules = resolveTarget(config.target);
  const kernel = createKernel(config, logger);
  const services: Record<string, ServiceInstance> = {};
  // The CDC step per service outbox (Kafka); the embedded log needs none.
  const relays: Worker[] = [];
  let verifier: TokenVerifier | undefined;
  try {
    const migrate = options.migrate ?? config.target === 'all';
    for (const module of modules) {
      const database = await kernel.databases.open(module.name);
      kernel.health.register({ name: `db-${module.name}`, required: true, check: () => database.ping() });
      if (migrate) await runMigrations(database, module.migrationsDir, logger.child({ module: module.name }));
      const relay = kernel.eventLog.relay(database);
      if (relay) relays.push(relay);
      const deps = Object.fromEntries(module.dependsOn.map((d) => [d, services[d]?.api]));
      services[module.name] = await module.init(kernel, deps as never);
      const api = services[module.name]?.api as { verifyToken?: TokenVerifier } | undefined;
      if (!verifier && typeof api?.verifyToken === 'function') verifier = api.verifyToken.bind(api);
    }
    // Auth in another process: verify its tokens locally with its published keys.
    if (!verifier && config.serviceUrls.auth) {
      verifier = createRemoteTokenVerifier({
        authUrl: config.serviceUrls.auth,
        securityStore: kernel.stores.security,
      });
    }
  } catch (error) {
    await kernel.close().catch(() => undefined);
    throw error;
  }
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
  // Steps stop in reverse registration order: HTTP, workers, services, kernel.
  const lifecycle = new Lifecycle({ logger, timeoutMs: config.shutdownTimeoutMs });
  lifecycle.onStop('kernel', () => kernel.close());
  lifecycle.onStop('services', async () => {
    for (const instance of Object.values(services)) await instance.close?.();
  });

  return {
    app,
    kernel,
    services,
    workers,
    lifecycle,
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
