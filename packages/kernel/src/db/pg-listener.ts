import pg from 'pg';
import type { Logger } from '../logging/logger.js';

type Callback = (payload: string) => void;

/**
 * LISTEN needs a session of its own on PostgreSQL (pooled clients come and
 * go), so each pool gets one dedicated client that multiplexes every channel.
 * A lost connection is reconnected; callers keep a poll fallback anyway.
 */
export class PgListener {
  readonly #callbacks = new Map<string, Set<Callback>>();
  #client: pg.Client | undefined;
  #connecting: Promise<pg.Client> | undefined;
  #closed = false;

  constructor(
    private readonly connectionString: string,
    private readonly logger: Logger,
  ) {}

  async listen(channel: string, callback: Callback): Promise<() => Promise<void>> {
    let set = this.#callbacks.get(channel);
    const first = set === undefined;
    if (!set) {
      set = new Set();
      this.#callbacks.set(channel, set);
    }
    set.add(callback);
    if (first) {
      const client = await this.#connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    }
    return async () => {
      const current = this.#callbacks.get(channel);
      current?.delete(callback);
      if (current && current.size === 0) {
        this.#callbacks.delete(channel);
        if (this.#client && !this.#closed)
          await this.#client.query(`UNLISTEN ${pg.escapeIdentifier(channel)}`);
      }
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = this.#client;
    this.#client = undefined;
    this.#callbacks.clear();
    if (client) await client.end().catch(() => undefined);
  }

  #connect(): Promise<pg.Client> {
    if (this.#client) return Promise.resolve(this.#client);
    if (!this.#connecting) {
      this.#connecting = this.#open().finally(() => {
        this.#connecting = undefined;
      });
    }
    return this.#connecting;
  }

  async #open(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', (message) => {
      for (const callback of this.#callbacks.get(message.channel) ?? []) callback(message.payload ?? '');
    });
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'database listener connection lost; reconnecting');
      if (this.#client === client) this.#client = undefined;
      void client.end().catch(() => undefined);
      setTimeout(() => void this.#resubscribe(), 1000).unref();
    });
    await client.connect();
    this.#client = client;
    return client;
  }

  async #resubscribe(): Promise<void> {
    if (this.#closed || this.#callbacks.size === 0) return;
    try {
      const client = await this.#connect();
      for (const channel of this.#callbacks.keys())
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      this.logger.warn({ err: error }, 'database listener reconnect failed; retrying');
      setTimeout(() => void this.#resubscribe(), 1000).unref();
    }
  }
}
