import { type Kysely, type KyselyPlugin, sql, type Transaction } from 'kysely';
import type { Logger } from '../logging/logger.js';

/**
 * NOTIFYs sent after their transaction committed, outside it.
 *
 * A PostgreSQL transaction that has issued NOTIFY takes one lock for the
 * whole cluster at commit (the notification queue's, seen as `Lock:object`
 * waits) and keeps it until its commit record is flushed: every notifying
 * commit, of every database on the server, waits for the one before it and
 * its fsync. Under load that serialised the outbox writes of a whole process
 * (each event wrote one). Here the writing transaction only records what it
 * wants announced; once it has committed, a notifier sends it from a
 * transaction of its own that commits without waiting for the flush (a
 * wake-up lost in a crash costs a reader's fallback poll, nothing else), and
 * coalesces: while one send runs, the next collects every transaction that
 * committed meanwhile. A rolled-back transaction announces nothing, as before.
 */
export class CommitNotifier {
  readonly #sender: NoteSender;
  readonly #logger: Logger;
  /** channel + NUL + payload → the note, collected for the next send. */
  #pending = new Map<string, Note>();
  #sending: Promise<void> | undefined;

  constructor(sender: NoteSender, logger: Logger) {
    this.#sender = sender;
    this.#logger = logger;
  }

  /** Queues notes of a committed transaction; the send runs in the background. */
  notify(notes: Iterable<Note>): void {
    for (const note of notes) this.#pending.set(`${note.channel}\0${note.payload}`, note);
    if (this.#pending.size > 0 && !this.#sending) this.#sending = this.#drain();
  }

  /** Sends what is queued, then lets the sender go. */
  async close(): Promise<void> {
    while (this.#sending) await this.#sending;
    await this.#sender.end();
  }

  async #drain(): Promise<void> {
    while (this.#pending.size > 0) {
      const notes = [...this.#pending.values()];
      this.#pending = new Map();
      try {
        await this.#sender.send(notes);
      } catch (error) {
        // Listeners fall back to polling; the rows are committed either way.
        this.#logger.warn(
          { err: error, notes: notes.length },
          'post-commit NOTIFY failed; readers will poll',
        );
      }
    }
    this.#sending = undefined;
  }
}

/** Sends one batch of notes in a transaction of its own. */
export interface NoteSender {
  send(notes: readonly Note[]): Promise<void>;
  end(): Promise<void>;
}

export interface Note {
  channel: string;
  payload: string;
}

/** Transactions whose notes are sent after commit: tx → the notes collected so far. */
const collecting = new WeakMap<object, Note[]>();

/**
 * Runs `fn` in a transaction (by `begin`) whose notifyOnCommit() notes are
 * handed to `notifier` after it committed; nothing when it rolls back.
 */
export async function withCommitNotes<T, DB>(
  notifier: CommitNotifier,
  begin: (fn: (tx: Transaction<DB>) => Promise<T>) => Promise<T>,
  fn: (tx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  const notes: Note[] = [];
  const result = await begin((tx) => {
    collecting.set(tx, notes);
    return fn(tx);
  });
  notifier.notify(notes);
  return result;
}

/** The plugin that makes a Kysely instance of one autocommit call (no effect on queries). */
const ownInstance: KyselyPlugin = {
  transformQuery: ({ node }) => node,
  transformResult: async ({ result }) => result,
};

/**
 * Runs `fn` on an instance of `db` of its own, outside any transaction (each
 * statement commits by itself); its notifyOnCommit() notes are handed to
 * `notifier` once `fn` settles — also when it failed: a statement before the
 * failure may have committed, and a wake-up for nothing costs a reader one
 * empty read.
 */
export async function withAutocommitNotes<T, DB>(
  notifier: CommitNotifier,
  db: Kysely<DB>,
  fn: (db: Kysely<DB>) => Promise<T>,
): Promise<T> {
  const own = db.withPlugin(ownInstance);
  const notes: Note[] = [];
  collecting.set(own, notes);
  try {
    return await fn(own);
  } finally {
    notifier.notify(notes);
  }
}

/**
 * NOTIFY `channel` with `payload` once `tx` has committed. In a transaction
 * of a database that sends after commit (the kernel's PostgreSQL databases)
 * the note waits for the commit and goes out from outside the transaction;
 * elsewhere (PGlite, a transaction not opened by Database.transaction) it is
 * an ordinary NOTIFY, which PostgreSQL delivers at commit too. True when it
 * was deferred (callers that fold NOTIFY into a statement of their own skip
 * it then).
 */
export function deferNotify(tx: object, channel: string, payload: string): boolean {
  const notes = collecting.get(tx);
  if (!notes) return false;
  notes.push({ channel, payload });
  return true;
}

/** As deferNotify, sending an ordinary NOTIFY in `tx` when it cannot be deferred. */
export async function notifyOnCommit<DB>(tx: Kysely<DB>, channel: string, payload = ''): Promise<void> {
  if (deferNotify(tx, channel, payload)) return;
  await sql`SELECT pg_notify(${channel}, ${payload})`.execute(tx);
}
