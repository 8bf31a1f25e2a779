export interface HealthCheck {
  name: string;
  /** A failing required check makes /health/ready answer 503; optional ones report "degraded". */
  required: boolean;
  /**
   * Resolves when healthy; throws (or times out) when not. May resolve to
   * `{ degraded: reason }`: working, but worth a look (never a 503).
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: existing checks are `() => Promise<void>` (pings).
  check(): Promise<void | HealthCheckDegraded>;
}

export interface HealthCheckDegraded {
  degraded: string;
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
