/**
 * The one contract of background work: event-log consumers, relays and
 * scheduled jobs. Every worker of a target is registered with the health
 * registry at boot (`workerHealthCheck`), so its health decides readiness.
 */
export interface WorkerHealth {
  /**
   * ok: doing its work. degraded: failures it is retrying or isolated ones
   * (a single dead letter). down: not doing its work — not running, its loop
   * crashed, or failing on every item (consecutive dead letters, failed
   * rounds, a round stuck past its bound); the target is then not ready.
   */
  status: 'ok' | 'degraded' | 'down';
  /** Why it is not ok, in a few words (logged by /health/ready). */
  reason?: string;
  detail?: Record<string, unknown>;
}

export interface Worker {
  readonly name: string;
  start(): Promise<void>;
  /**
   * Stop taking new work, finish or abandon in-flight work (it will be
   * redelivered) and commit checkpoints, all before `deadline` (epoch ms).
   */
  stop(deadline: number): Promise<void>;
  health(): WorkerHealth;
}
