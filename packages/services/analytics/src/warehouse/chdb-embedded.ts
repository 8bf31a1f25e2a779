import { mkdir } from 'node:fs/promises';
import { type Warehouse, WarehouseError } from './warehouse.js';

type ChdbSession = import('chdb').Session;

/**
 * libchdb binds one data directory per process: every embedded warehouse of
 * the process shares one session per directory, opened on first use and
 * closed when its last user closes. Asking for a second directory while one
 * is open is a configuration mistake and fails at start.
 */
let current: { path: string; session: ChdbSession; users: number } | undefined;

async function acquire(dataDir: string): Promise<ChdbSession> {
  if (current) {
    if (current.path !== dataDir) {
      throw new WarehouseError(
        `embedded ClickHouse already holds ${current.path} in this process; one data directory per process`,
      );
    }
    current.users += 1;
    return current.session;
  }
  await mkdir(dataDir, { recursive: true });
  let chdb: typeof import('chdb');
  try {
    chdb = await import('chdb');
  } catch (error) {
    throw new WarehouseError(
      'embedded ClickHouse (the chdb package) is not installed: run npm install, or set CLICKHOUSE_URL',
      { cause: error },
    );
  }
  current = { path: dataDir, session: new chdb.Session(dataDir), users: 1 };
  return current.session;
}

function release(): void {
  if (!current) return;
  current.users -= 1;
  if (current.users === 0) {
    current.session.close();
    current = undefined;
  }
}

/** ClickHouse in the process (chDB), its data under `dataDir`. */
export async function createEmbeddedWarehouse(dataDir: string): Promise<Warehouse> {
  const session = await acquire(dataDir);
  let closed = false;
  const wrap = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    if (closed) throw new WarehouseError('embedded ClickHouse is closed');
    try {
      return await run();
    } catch (error) {
      throw new WarehouseError(`embedded ClickHouse ${what} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };
  return {
    kind: 'embedded',
    command: (statement) => wrap('command', async () => void (await session.queryAsync(statement))),
    query: <Row>(statement: string) =>
      wrap('query', async () => {
        const text = (await session.queryAsync(statement, { format: 'JSONEachRow' })).text();
        return text
          .split('\n')
          .filter((line) => line.length > 0)
          .map((line) => JSON.parse(line) as Row);
      }),
    insert: (table, rows) =>
      wrap('insert', async () => {
        if (rows.length === 0) return;
        const payload = Buffer.from(`${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
        await session.insert({ table, values: payload, format: 'JSONEachRow' });
      }),
    ping: () => wrap('ping', async () => void (await session.queryAsync('SELECT 1'))),
    async close() {
      if (closed) return;
      closed = true;
      release();
    },
  };
}
