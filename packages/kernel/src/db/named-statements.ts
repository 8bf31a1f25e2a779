import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * Makes a pooled client run parameterized queries as named prepared
 * statements: PostgreSQL then parses and plans each distinct query once per
 * connection instead of on every call (planning a relationship query cost
 * more than running it). Queries without parameters stay unnamed, because a
 * prepared statement cannot hold several commands (migrations, SET LOCAL).
 * Each connection keeps at most MAX_NAMED statements; beyond that (e.g. many
 * IN-list lengths) queries run unnamed rather than grow server memory.
 */
const MAX_NAMED = 500;
const names = new Map<string, string>();
const prepared = new WeakMap<pg.PoolClient, Set<string>>();

function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `nova_${createHash('sha1').update(text).digest('base64url')}`;
    if (names.size < 10_000) names.set(text, name);
  }
  return name;
}

export function withNamedStatements(client: pg.PoolClient): pg.PoolClient {
  if (prepared.has(client)) return client;
  const known = new Set<string>();
  prepared.set(client, known);
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const named = (text: unknown, values?: unknown, callback?: unknown): unknown => {
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || callback !== undefined) {
      return query(text, values, callback);
    }
    const name = statementName(text);
    if (!known.has(name)) {
      if (known.size >= MAX_NAMED) return query(text, values);
      known.add(name);
    }
    return query({ name, text, values });
  };
  client.query = named as typeof client.query;
  return client;
}
