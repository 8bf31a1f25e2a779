import { NovaError, UnavailableError } from './errors.js';

/**
 * Where an error came from, when the caller knows: an adapter at its
 * boundary knows that anything other than a server's own answer (a reply
 * error, an SQL error) means the dependency could not be reached.
 */
export type InfrastructureSource = 'redis' | 'postgres' | 'pglite';

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs that say "the database cannot serve you right now", not "your
 * statement is wrong": connection exceptions (class 08), operator
 * intervention (admin/crash shutdown, cannot connect now, and 57014
 * query_canceled, which is what statement_timeout raises), too many
 * connections, out of resources.
 */
const UNAVAILABLE_SQLSTATES = new Set([
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '57P05',
  '53000',
  '53100',
  '53200',
  '53300',
  '53400',
]);
const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * Redis answers these while it cannot serve (loading its dataset after a
 * restart, a busy script, a replica without its master): the server is up
 * but unavailable.
 */
const REDIS_UNAVAILABLE_REPLY = /^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * Failures some client libraries raise without a code or class of their
 * own. Listed here, and only here, so a library upgrade that changes a
 * message breaks one test, not a dozen call sites.
 */
const KNOWN_MESSAGES: readonly RegExp[] = [
  // pg / pg-pool
  /^timeout exceeded when trying to connect$/,
  /^Connection terminated/,
  /^Query read timeout$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  // ioredis
  /^Connection is closed\.$/,
  /^Command timed out$/,
  /^Stream isn't writeable and enableOfflineQueue options is false$/,
  /^Reached the max retries per request limit/,
  // PGlite
  /^PGlite is closed$/,
];

const MESSAGES: Record<InfrastructureSource | 'unknown', [code: string, message: string]> = {
  redis: ['store_unavailable', 'A data store is temporarily unavailable; retry later.'],
  postgres: ['database_unavailable', 'The database is temporarily unavailable; retry later.'],
  pglite: ['database_unavailable', 'The database is temporarily unavailable; retry later.'],
  unknown: ['dependency_unavailable', 'A dependency is temporarily unavailable; retry later.'],
};

function field(error: object, name: string): unknown {
  return (error as Record<string, unknown>)[name];
}

function sourceOf(error: object): InfrastructureSource | 'unknown' {
  const code = field(error, 'code');
  if (typeof code === 'string' && SQLSTATE.test(code)) return 'postgres';
  const name = field(error, 'name');
  if (name === 'ReplyError' || name === 'MaxRetriesPerRequestError') return 'redis';
  return 'unknown';
}

/** True when the error is a server's own answer to a well-delivered request. */
function isServerAnswer(error: object, source: InfrastructureSource): boolean {
  if (source === 'redis') return field(error, 'name') === 'ReplyError';
  const code = field(error, 'code');
  // pg's DatabaseError and PGlite's errors carry the SQLSTATE.
  return typeof code === 'string' && SQLSTATE.test(code);
}

/**
 * The one classification of infrastructure failures: the UnavailableError
 * (503 + Retry-After) a client should see, or undefined when the error is
 * not an outage (a bug, a constraint violation, a bad request).
 *
 * Adapters call it at their boundary with their `source`, so any failure
 * that is not the server's own answer counts as the dependency being
 * unreachable (connection refused or reset, connect/acquire/command
 * timeouts, a closed client). Without a source (the HTTP error handler's
 * last look at an unexpected error) it recognises socket error codes,
 * unavailable SQLSTATEs and the known client-library messages above.
 */
export function unavailableFrom(error: unknown, source?: InfrastructureSource): UnavailableError | undefined {
  if (error instanceof UnavailableError) return error;
  if (error instanceof NovaError) return undefined;
  if (typeof error !== 'object' || error === null) return undefined;
  const from = source ?? sourceOf(error);
  const [code, message] = MESSAGES[from];
  const unavailable = () => new UnavailableError(code, message, { cause: error });

  const errorCode = field(error, 'code');
  if (typeof errorCode === 'string') {
    if (SOCKET_CODES.has(errorCode)) return unavailable();
    if (SQLSTATE.test(errorCode)) {
      return errorCode.startsWith('08') || UNAVAILABLE_SQLSTATES.has(errorCode) ? unavailable() : undefined;
    }
  }
  const text = field(error, 'message');
  if (field(error, 'name') === 'ReplyError') {
    return typeof text === 'string' && REDIS_UNAVAILABLE_REPLY.test(text) ? unavailable() : undefined;
  }
  if (field(error, 'name') === 'MaxRetriesPerRequestError') return unavailable();
  // AggregateError: every address of a host refused (e.g. localhost on ::1 and 127.0.0.1).
  const errors = field(error, 'errors');
  if (Array.isArray(errors) && errors.length > 0 && errors.every((e) => unavailableFrom(e) !== undefined)) {
    return unavailable();
  }
  if (typeof text === 'string' && KNOWN_MESSAGES.some((pattern) => pattern.test(text))) return unavailable();
  // Plain Errors only: a TypeError from a bad argument is a bug, not an outage.
  const name = field(error, 'name');
  // PGlite is in-process: besides its SQL errors only "closed" (listed above) is an outage.
  const remote = source === 'redis' || source === 'postgres';
  if (remote && (name === 'Error' || name === 'AggregateError') && !isServerAnswer(error, source))
    return unavailable();
  return undefined;
}

/** Rethrows `error` as an UnavailableError when it is an outage, unchanged otherwise. */
export function rethrowClassified(source: InfrastructureSource): (error: unknown) => never {
  return (error) => {
    throw unavailableFrom(error, source) ?? error;
  };
}
