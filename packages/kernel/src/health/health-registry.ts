export interface HealthCheck {
  name: string;
  /** A failing required check makes /health/ready answer 503; optional ones report "degraded". */
  required: boolean;
  /** Resolves when healthy; throws (or times out) when not. */
  check(): Promise<void>;
}

export interface HealthCheckResult {
  status: 'ok' | 'degraded' | 'down';
  latencyMs: number;
  error?: string;
}

export interface ReadinessReport {
  status: 'ok' | 'degraded' | 'down';
  checks: Record<string, HealthCheckResult>;
}

export interface HealthRegistry {
  register(check: HealthCheck): void;
  run(timeoutMs?: number): Promise<ReadinessReport>;
}
