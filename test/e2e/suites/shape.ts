import { type NovaDeployment, startDeployment } from '../harness.js';

/** A deployment shape an end-to-end suite runs against: extra environment for `npm start`. */
export interface E2eShape {
  name: string;
  /** Read when the suite starts (the Kafka address is only known then). */
  env(): Record<string, string>;
  /** Dependencies /health/ready must report for this shape (proof the shape is really in use). */
  readyChecks?: string[];
  /** One process per service (`--target=auth`, `--target=social`) instead of `npm start`. */
  split?: boolean;
  /**
   * A deployment started once for several suites (the split topology behind the gateway): the
   * suite drives it instead of starting its own, and its stop() leaves it running. The suite's
   * own environment does not reach it: the shape started it with what its suites need.
   */
  shared?(): NovaDeployment;
  /**
   * The database a service's tables are in, for walks that check rows from outside; absent: the
   * one DATABASE_URL the walk gives its own deployment holds every service's schema.
   */
  databaseUrl?(service: string): string;
  /** Creates what env() points at (a database); release() removes it and anything the run left. */
  prepare?(): Promise<void>;
  release?(): Promise<void>;
}

export const EMBEDDED_SHAPE: E2eShape = { name: 'embedded log', env: () => ({}) };

/** The shape's shared deployment, or a new one started with `env` (the suite's settings on top of the shape's). */
export async function deployShape(shape: E2eShape, env: Record<string, string>): Promise<NovaDeployment> {
  return shape.shared ? shape.shared() : startDeployment(env, { split: shape.split });
}
