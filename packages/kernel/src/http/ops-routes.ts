import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { DEFAULT_RETRY_AFTER_SECONDS } from '../errors/errors.js';
import type { HealthRegistry } from '../health/health-registry.js';
import type { NovaApp } from './app.js';

const LIVE = { status: 'ok' as const };

const Live = Type.Object({ status: Type.Literal('ok') });
const Ready = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down')]),
  checks: Type.Record(
    Type.String(),
    Type.Object({
      status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('down')]),
      latencyMs: Type.Number(),
    }),
  ),
});

/** Public operational endpoints: liveness, readiness, Prometheus metrics. */
export function registerOpsRoutes(
  app: NovaApp,
  deps: {
    health: HealthRegistry;
    metrics: Registry;
    /** False when it has answered (403) itself. */
    metricsAccess: (request: FastifyRequest, reply: FastifyReply) => boolean;
  },
): void {
  const config = { auth: 'public' as const };
  app.get(
    '/health/live',
    { config, schema: { tags: ['ops'], summary: 'The process is up', response: { 200: Live } } },
    // The benchmark baseline: a constant, serialized by the compiled response schema.
    (_request, reply) => {
      reply.send(LIVE);
    },
  );

  app.get(
    '/health/ready',
    {
      config,
      schema: { tags: ['ops'], summary: 'Every dependency checked', response: { 200: Ready, 503: Ready } },
    },
    async (request, reply) => {
      const report = await deps.health.run();
      const checks: Record<string, { status: 'ok' | 'degraded' | 'down'; latencyMs: number }> = {};
      for (const [name, result] of Object.entries(report.checks)) {
        checks[name] = { status: result.status, latencyMs: result.latencyMs };
        // Failure reasons go to the log, not to anonymous callers.
        if (result.error)
          request.log.warn(
            { check: name, status: result.status, error: result.error },
            'health check failed',
          );
      }
      // Load balancers and clients alike get told when to look again.
      if (report.status === 'down') reply.header('retry-after', String(DEFAULT_RETRY_AFTER_SECONDS));
      return reply.code(report.status === 'down' ? 503 : 200).send({ status: report.status, checks });
    },
  );

  app.get(
    '/metrics',
    {
      config,
      schema: {
        tags: ['ops'],
        summary: 'Prometheus metrics (NOVA_METRICS_ALLOW networks, or Bearer NOVA_METRICS_TOKEN)',
        produces: ['text/plain'],
        response: { 200: { description: 'Prometheus text exposition', type: 'string' } },
      },
    },
    async (request, reply) => {
      if (!deps.metricsAccess(request, reply)) return reply;
      const text = await deps.metrics.metrics();
      return reply.type(deps.metrics.contentType).send(text);
    },
  );
}
