import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
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

const ADMIN_URL = process.env.NOVA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A suite's deployment, started by the suite's beforeAll and stopped by its afterAll. */
export interface SuiteDeployment {
  /** The running deployment (read it inside tests: it is set by beforeAll). */
  readonly nova: NovaDeployment;
  /** The database a service's tables are in, for checks of rows from outside. */
  databaseUrl(service: string): string;
}

export interface SuiteDeploymentOptions {
  /** Names the suite's fresh database (`nova_e2e_<name>_…`). */
  name: string;
  /**
   * Runs the deployment on a PostgreSQL database of its own, created and dropped here, so a walk
   * can check from outside that a deletion leaves no row behind (default true). A shared
   * deployment runs on databases of its own: the suite makes none.
   */
  freshDatabase?: boolean;
  /** Settings on top of the shape's. */
  env?: Record<string, string>;
  /** Runs before the deployment starts and after it stopped (e.g. a receiver the server calls). */
  before?(): Promise<void>;
  after?(): Promise<void>;
}

/** Registers, in the calling describe(), the hooks that deploy `shape` for its tests. */
export function deploySuite(shape: E2eShape, options: SuiteDeploymentOptions): SuiteDeployment {
  const dbName = `nova_e2e_${options.name}_${process.pid}_${Date.now()}`;
  const dbUrl = ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
  let nova: NovaDeployment | undefined;
  let admin: pg.Client | undefined;

  beforeAll(async () => {
    await options.before?.();
    let env = { ...shape.env(), ...options.env };
    if ((options.freshDatabase ?? true) && !shape.shared) {
      admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${dbName}`);
      env = { ...env, DATABASE_URL: dbUrl };
    }
    await shape.prepare?.();
    nova = await deployShape(shape, env);
  });
  afterAll(async () => {
    try {
      await nova?.stop();
      nova?.cleanup();
    } finally {
      try {
        await shape.release?.();
      } finally {
        await options.after?.();
      }
    }
    if (admin) {
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    }
  });

  return {
    get nova() {
      if (!nova) throw new Error('the suite deployment is read before its beforeAll ran');
      return nova;
    },
    databaseUrl: (service) => shape.databaseUrl?.(service) ?? dbUrl,
  };
}
