/**
 * Small conversions every repository needs, on both dialects: PGlite and
 * node-postgres agree on most types, and these cover where they may not.
 */

/** timestamptz as an ISO-8601 string: drivers return Date, tolerate strings so both dialects agree. */
export function toIso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export function toIsoOrNull(value: Date | string | null): string | null {
  return value === null ? null : toIso(value);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids are uuids: anything else cannot match a row, so no query is needed. */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * The constraint a unique violation (SQLSTATE 23505) broke, or undefined.
 * node-postgres and PGlite both put `code` and `constraint` on their error.
 */
export function uniqueViolation(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 3 && typeof current === 'object' && current !== null; depth++) {
    const { code, constraint } = current as { code?: unknown; constraint?: unknown };
    if (code === '23505') return typeof constraint === 'string' ? constraint : '';
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
