/** The one contract of background work: event-log consumers and scheduled jobs. */
export interface WorkerHealth {
  status: 'ok' | 'degraded' | 'down';
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
