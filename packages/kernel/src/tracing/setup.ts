import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Logger } from '../logging/logger.js';
import { setTracingEnabled } from './tracing.js';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface TracingConfig {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: base URL; traces go to `<endpoint>/v1/traces`. */
  endpoint: string;
  protocol: OtlpProtocol;
  serviceName: string;
  /** Extra resource attributes (e.g. the process's target). */
  attributes?: Record<string, string>;
  /** BatchSpanProcessor delay (default 1000 ms; tests shorten it). */
  exportDelayMs?: number;
}

export interface TracingHandle {
  /** Exports every finished span now. */
  flush(): Promise<void>;
  /** Flushes and uninstalls (the last holder of a shared installation does). */
  shutdown(): Promise<void>;
}

/** One installation per process: the OpenTelemetry API's globals are process-wide. */
let installed: { provider: NodeTracerProvider; holders: number; key: string } | undefined;

/** OTLP endpoint + `/v1/traces`, as the OpenTelemetry spec derives the traces URL from the base variable. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Installs the OpenTelemetry SDK: AsyncLocalStorage context, W3C
 * propagation, a batching OTLP exporter (protobuf or JSON over HTTP). A
 * second call in the same process (tests boot several kernels) shares the
 * first installation when the configuration matches and refuses otherwise.
 */
export function startTracing(config: TracingConfig, logger: Logger): TracingHandle {
  const key = JSON.stringify([config.endpoint, config.protocol, config.serviceName]);
  if (installed) {
    if (installed.key !== key) throw new Error('tracing is already installed with another configuration');
    installed.holders += 1;
  } else {
    const url = tracesUrl(config.endpoint);
    const exporter =
      config.protocol === 'http/json' ? new OtlpJsonExporter({ url }) : new OtlpProtoExporter({ url });
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': config.serviceName, ...config.attributes }),
      spanProcessors: [
        new BatchSpanProcessor(exporter, {
          scheduledDelayMillis: config.exportDelayMs ?? 1000,
          maxQueueSize: 8192,
          maxExportBatchSize: 512,
        }),
      ],
    });
    provider.register();
    installed = { provider, holders: 1, key };
    setTracingEnabled(true);
    logger.info({ url, protocol: config.protocol }, 'exporting traces over OTLP');
  }
  const mine = installed;
  let released = false;
  return {
    flush: () => mine.provider.forceFlush(),
    async shutdown() {
      if (released) return;
      released = true;
      mine.holders -= 1;
      if (mine.holders > 0) {
        await mine.provider.forceFlush();
        return;
      }
      if (installed === mine) installed = undefined;
      setTracingEnabled(false);
      await mine.provider.shutdown().catch((error: unknown) => {
        logger.warn({ err: error }, 'trace export at shutdown failed');
      });
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
