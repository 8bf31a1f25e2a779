import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { type Warehouse, WarehouseError } from './warehouse.js';

/**
 * A ClickHouse server through the official client. Nothing here relies on a
 * setting newer than 18.16 (the server Debian ships, which the tests use):
 * the client's defaults send none.
 */
export function createServerWarehouse(url: string): Warehouse {
  const client: ClickHouseClient = createClient({
    url,
    request_timeout: 30_000,
    compression: { request: false, response: false },
    max_open_connections: 16,
  });
  const wrap = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw new WarehouseError(`ClickHouse ${what} failed: ${(error as Error).message}`, { cause: error });
    }
  };
  return {
    kind: 'server',
    command: (statement) => wrap('command', async () => void (await client.command({ query: statement }))),
    query: <Row>(statement: string) =>
      wrap('query', async () =>
        (await client.query({ query: statement, format: 'JSONEachRow' })).json<Row>(),
      ),
    insert: (table, rows) =>
      wrap('insert', async () => {
        if (rows.length === 0) return;
        await client.insert({ table, values: rows as Record<string, unknown>[], format: 'JSONEachRow' });
      }),
    ping: () =>
      wrap('ping', async () => {
        const answer = await client.ping();
        if (!answer.success) throw answer.error;
      }),
    close: () => client.close(),
  };
}
