import {
  Counter,
  type CounterConfiguration,
  collectDefaultMetrics,
  Gauge,
  type GaugeConfiguration,
  Histogram,
  type HistogramConfiguration,
  Registry,
} from 'prom-client';

export type { Registry } from 'prom-client';

/** The process's metrics registry: Node's default metrics under the `nova_` prefix. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'nova_' });
  return registry;
}

type Config<C> = Omit<C, 'registers'>;

// Modules are initialised independently and may ask for the same metric;
// the second asker gets the first one's instance instead of a registry clash.
function getOrCreate<M>(
  registry: Registry,
  name: string,
  kind: abstract new (...args: never[]) => M,
  create: () => M,
): M {
  const existing = registry.getSingleMetric(name);
  if (existing === undefined) return create();
  if (existing instanceof kind) return existing;
  throw new TypeError(`metric ${name} is already registered as a different type`);
}

export function counter<T extends string = string>(
  registry: Registry,
  config: Config<CounterConfiguration<T>>,
): Counter<T> {
  return getOrCreate(
    registry,
    config.name,
    Counter,
    () => new Counter<T>({ ...config, registers: [registry] }),
  ) as Counter<T>;
}

export function gauge<T extends string = string>(
  registry: Registry,
  config: Config<GaugeConfiguration<T>>,
): Gauge<T> {
  return getOrCreate(
    registry,
    config.name,
    Gauge,
    () => new Gauge<T>({ ...config, registers: [registry] }),
  ) as Gauge<T>;
}

export function histogram<T extends string = string>(
  registry: Registry,
  config: Config<HistogramConfiguration<T>>,
): Histogram<T> {
  return getOrCreate(
    registry,
    config.name,
    Histogram,
    () => new Histogram<T>({ ...config, registers: [registry] }),
  ) as Histogram<T>;
}
