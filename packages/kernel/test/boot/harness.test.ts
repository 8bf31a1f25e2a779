import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { AnyApi } from '../../src/boot/index.js';
import { defineSyncApi, type ServiceModule, type Worker } from '../../src/index.js';
import { DATABASE_KINDS, startModules } from '../../src/testing/index.js';
import { idsEdgeContracts as contracts, ids } from '../support/ids-edge.js';

/**
 * The harness runs the production boot: a small module with its own
 * migrations, routes behind the edge, a sync API and a worker, started the
 * way `nova start` starts a target, on a private database.
 */
const notesApi = defineSyncApi('notes', 1, {
  count: { request: Type.Object({}), response: Type.Object({ notes: Type.Integer() }), idempotent: true },
});

const migrations = mkdtempSync(path.join(os.tmpdir(), 'nova-harness-migrations-'));
writeFileSync(
  path.join(migrations, '001-notes.sql'),
  'CREATE TABLE notes (id serial PRIMARY KEY, body text);',
);

const workerEvents: string[] = [];

const notesModule: ServiceModule<{ count(): Promise<{ notes: number }> }, { ids: AnyApi }> = {
  name: 'notes',
  dependsOn: ['ids'],
  syncApi: notesApi,
  migrationsDir: migrations,
  async init(kernel) {
    const database = await kernel.databases.open('notes');
    const count = async () => {
      const notes = sql.table(`${database.schema}.notes`);
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${notes}`.execute(database.db);
      return { notes: rows[0]?.n ?? 0 };
    };
    const worker: Worker = {
      name: 'notes-worker',
      start: async () => void workerEvents.push('start'),
      stop: async () => void workerEvents.push('stop'),
      health: () => ({ status: 'ok' }),
    };
    return {
      api: { count },
      routes: {
        api: (app) => {
          app.post('/notes', async (request, reply) => {
            const notes = sql.table(`${database.schema}.notes`);
            await sql`INSERT INTO ${notes} (body) VALUES (${request.principal?.userId ?? ''})`.execute(
              database.db,
            );
            return reply.code(201).send(await count());
          });
        },
      },
      workers: [worker],
    };
  },
};

describe.each(DATABASE_KINDS)('startModules on %s', (database) => {
  it('boots, serves over HTTP behind the edge, runs workers, and stops cleanly', async () => {
    workerEvents.length = 0;
    const nova = await startModules({
      modules: [notesModule],
      contracts,
      database,
      provided: { ids },
    });
    try {
      expect(nova.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(workerEvents).toEqual(['start']);
      expect((await nova.call('POST', '/api/v1/notes')).status).toBe(401);
      expect((await nova.call('POST', '/api/v1/notes', { token: 'bogus' })).status).toBe(401);
      const created = await nova.call('POST', '/api/v1/notes', { token: 'user-a' });
      expect(created).toMatchObject({ status: 201, body: { notes: 1 } });
      // The sync API is bound in-process, as a co-located caller sees it.
      expect(await nova.apis.notes?.count?.({})).toEqual({ notes: 1 });
      expect((await nova.call('GET', '/health/ready')).status).toBe(200);
    } finally {
      await nova.close();
    }
    expect(workerEvents).toEqual(['start', 'stop']);
    if (database === 'postgres') {
      const url = nova.config.database.defaultUrl as string;
      const name = new URL(url).pathname.slice(1);
      const admin = new pg.Client({
        connectionString: process.env.NOVA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
      });
      await admin.connect();
      try {
        const { rows } = await admin.query('select 1 from pg_database where datname = $1', [name]);
        expect(rows).toHaveLength(0);
      } finally {
        await admin.end();
      }
    }
  });
});

describe('startModules without listening', () => {
  it('answers through inject and refuses a module whose dependency nobody provides', async () => {
    const nova = await startModules({ modules: [notesModule], contracts, provided: { ids }, listen: false });
    try {
      expect(nova.baseUrl).toBeUndefined();
      const created = await nova.call('POST', '/api/v1/notes', { token: 'user-b' });
      expect(created).toMatchObject({ status: 201, body: { notes: 1 } });
      expect((await nova.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    } finally {
      await nova.close();
    }
    await expect(startModules({ modules: [notesModule], contracts })).rejects.toThrow(/unknown module "ids"/);
  });
});
