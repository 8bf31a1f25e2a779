/** A deployment shape an end-to-end suite runs against: extra environment for `npm start`. */
export interface E2eShape {
  name: string;
  /** Read when the suite starts (the Kafka address is only known then). */
  env(): Record<string, string>;
  /** Dependencies /health/ready must report for this shape (proof the shape is really in use). */
  readyChecks?: string[];
  /** One process per service (`--target=auth`, `--target=social`) instead of `npm start`. */
  split?: boolean;
  /** Creates what env() points at (a database); release() removes it and anything the run left. */
  prepare?(): Promise<void>;
  release?(): Promise<void>;
}

export const EMBEDDED_SHAPE: E2eShape = { name: 'embedded log', env: () => ({}) };
