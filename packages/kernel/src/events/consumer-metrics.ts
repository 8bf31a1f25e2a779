import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The metrics every consumer group reports, whichever log feeds it. */
export interface ConsumerMetrics {
  processed: Counter<'group'>;
  retried: Counter<'group'>;
  deadLettered: Counter<'group'>;
  skipped: Counter<'group'>;
  handlerSeconds: Histogram<'group'>;
  lag: Gauge<'group' | 'topic'>;
}

/** Get-or-create: many consumers (and both log kinds) share one registry. */
export function consumerMetrics(registry: Registry): ConsumerMetrics {
  return {
    processed: counter(registry, 'nova_consumer_events_processed_total', 'Events whose effects committed'),
    retried: counter(
      registry,
      'nova_consumer_events_retried_total',
      'Handler attempts that failed and were retried',
    ),
    deadLettered: counter(
      registry,
      'nova_consumer_events_dead_lettered_total',
      'Events sent to the dead-letter store',
    ),
    skipped: counter(
      registry,
      'nova_consumer_events_skipped_total',
      'Events of a type the consumer ignores, passed without a transaction',
    ),
    handlerSeconds:
      (registry.getSingleMetric('nova_consumer_handler_duration_seconds') as
        | Histogram<'group'>
        | undefined) ??
      new Histogram({
        name: 'nova_consumer_handler_duration_seconds',
        help: 'Time of one handler attempt, transaction included',
        labelNames: ['group'],
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
    lag:
      (registry.getSingleMetric('nova_consumer_lag') as Gauge<'group' | 'topic'> | undefined) ??
      new Gauge({
        name: 'nova_consumer_lag',
        help: 'Events published to a topic but not yet checkpointed by the group',
        labelNames: ['group', 'topic'],
        registers: [registry],
      }),
  };
}

function counter(registry: Registry, name: string, help: string): Counter<'group'> {
  return (
    (registry.getSingleMetric(name) as Counter<'group'> | undefined) ??
    new Counter({ name, help, labelNames: ['group'], registers: [registry] })
  );
}
