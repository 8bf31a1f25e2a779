import { AsyncLocalStorage } from 'node:async_hooks';
import { FatalError } from '../errors/errors.js';

/**
 * The transaction on a single-connection engine (PGlite) that the current
 * async context runs inside. While it is open, anything that needs that same
 * connection — a statement beside the transaction, or a sync API whose
 * in-process callee reads its own schema — queues behind the transaction that
 * is waiting for it: a deadlock no timeout ends. Tracking the holder lets the
 * kernel fail such a call at once, naming it, instead.
 */
interface HeldConnection {
  /** The engine whose one connection is held (a PGlite handle). */
  readonly engine: object;
  /** The schema (service) whose transaction holds it. */
  readonly schema: string;
  open: boolean;
}

const held = new AsyncLocalStorage<HeldConnection>();

/** Runs a transaction's callback as the holder of `engine`'s one connection. */
export async function holdingConnection<T>(engine: object, schema: string, fn: () => Promise<T>): Promise<T> {
  const holder: HeldConnection = { engine, schema, open: true };
  try {
    return await held.run(holder, fn);
  } finally {
    // Work started inside the callback that outlives it (after commit) may use the connection again.
    holder.open = false;
  }
}

/** The schema whose open single-connection transaction the caller is inside, if any. */
export function heldConnectionSchema(engine?: object): string | undefined {
  const holder = held.getStore();
  if (!holder?.open) return undefined;
  return engine === undefined || holder.engine === engine ? holder.schema : undefined;
}

/**
 * A call made inside a transaction that holds the embedded database's only
 * connection, which the call needs too: it would wait for ever. A programming
 * error, never healed by a retry (a consumer dead-letters the event at once).
 */
export class ConnectionHeldError extends FatalError {
  constructor(
    /** What was called, e.g. `social.getProfiles` or `a statement outside the transaction`. */
    readonly call: string,
    /** The schema whose transaction holds the connection. */
    readonly holder: string,
  ) {
    super(
      `${call} inside a ${holder} transaction on the embedded database: PGlite has one connection and ` +
        'this transaction holds it, so the call would wait for ever. Make the call before the ' +
        'transaction (or keep a local read model of what it returns), and use the transaction for statements.',
    );
    this.name = 'ConnectionHeldError';
  }
}
