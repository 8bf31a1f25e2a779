import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.js';
import { FatalError, isTransient } from '../errors/errors.js';
import type { Logger } from '../logging/logger.js';
import { backoffDelay, DEFAULT_RETRY_POLICY } from '../workers/retry.js';
import { sleep } from '../workers/sleep.js';
import { type ConsumerSpec, type EventRecord, type EventValidator, isBatchSpec } from './event-log.js';
import type { KernelTables } from './kernel-tables.js';

/** One dead-lettered event as an operator sees it. */
export interface DeadLetterEntry {
  id: string;
  group: string;
  topic: string;
  eventId: string;
  key: string;
  type: string;
  reason: string;
  attempts: number;
  failedAt: string;
}

const kernelDb = <DB>(database: Database<DB>): Kysely<KernelTables> =>
  database.db as unknown as Kysely<KernelTables>;

/** The dead letters in a consumer database, oldest first; optionally of one group. */
export async function listDeadLetters<DB>(
  database: Database<DB>,
  options: { group?: string; limit?: number } = {},
): Promise<DeadLetterEntry[]> {
  let query = kernelDb(database)
    .selectFrom('dead_letters')
    .select(['id', 'group_id', 'topic', 'event_id', 'key', 'type', 'reason', 'attempts', 'failed_at'])
    .orderBy('failed_at')
    .orderBy('id')
    .limit(options.limit ?? 1000);
  if (options.group !== undefined) query = query.where('group_id', '=', options.group);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    group: r.group_id,
    topic: r.topic,
    eventId: r.event_id,
    key: r.key,
    type: r.type,
    reason: r.reason,
    attempts: Number(r.attempts),
    failedAt: new Date(r.failed_at).toISOString(),
  }));
}

/**
 * 'processed': the handler ran and its effects committed with the letter's
 * removal; 'ignored': the consumer no longer handles the type, the letter is
 * gone; 'failed': it failed again (the letter stays, with the new reason);
 * 'gone': no such letter for this group (never existed, or redriven already).
 */
export type RedriveOutcome = 'processed' | 'ignored' | 'failed' | 'gone';

export interface RedriveOptions<DB> {
  /** The consumer group's own definition: its database and handler. */
  spec: ConsumerSpec<DB>;
  validate: EventValidator;
  logger: Logger;
  signal?: AbortSignal;
}

/**
 * Hands one dead letter back to its consumer group's handler, exactly once.
 * In ONE transaction on the consumer's database: the letter is locked (a
 * concurrent redrive of the same letter waits, then finds it gone), the
 * handler applies its effects, and the letter is deleted; the event's
 * processed_events record (written when it was dead-lettered) stays, so the
 * live consumer never applies it a second time. Transient failures are
 * retried with the group's policy; a letter that fails again keeps its row
 * with the new reason and the attempts added up.
 */
export async function redriveDeadLetter<DB>(
  options: RedriveOptions<DB>,
  letterId: string,
): Promise<{ outcome: RedriveOutcome; reason?: string }> {
  const { spec, logger } = options;
  const policy = { ...DEFAULT_RETRY_POLICY, ...spec.retry };
  for (let attempt = 1; ; attempt++) {
    try {
      const outcome = await spec.database.transaction((tx) => redriveOnce(options, tx, letterId, attempt));
      logger.info({ group: spec.group, letterId, outcome }, 'dead letter redriven');
      return { outcome };
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      if (isTransient(error) && attempt < policy.maxAttempts) {
        const delay = backoffDelay(policy, attempt);
        logger.warn(
          { group: spec.group, letterId, attempt, delayMs: delay, err: error },
          'redrive failed; retrying',
        );
        if (await sleep(delay, options.signal)) continue;
      }
      await kernelDb(spec.database)
        .updateTable('dead_letters')
        .set({
          reason: reason.slice(0, 4000),
          attempts: sql<number>`attempts + ${attempt}`,
          failed_at: sql<Date>`now()`,
        })
        .where('id', '=', letterId)
        .where('group_id', '=', spec.group)
        .execute();
      logger.error({ group: spec.group, letterId, attempts: attempt, err: error }, 'redrive failed');
      return { outcome: 'failed', reason };
    }
  }
}

async function redriveOnce<DB>(
  { spec, validate, logger }: RedriveOptions<DB>,
  tx: Transaction<DB>,
  letterId: string,
  attempt: number,
): Promise<RedriveOutcome> {
  const kernel = tx as unknown as Transaction<KernelTables>;
  const letter = await kernel
    .selectFrom('dead_letters')
    .selectAll()
    .where('id', '=', letterId)
    .where('group_id', '=', spec.group)
    .forUpdate()
    .executeTakeFirst();
  if (!letter) return 'gone';
  // Normally written with the letter; kept (or restored) so the live consumer skips the event for good.
  await kernel
    .insertInto('processed_events')
    .values({ group_id: spec.group, event_id: letter.event_id })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const event: EventRecord = {
    id: letter.event_id,
    topic: letter.topic,
    key: letter.key,
    type: letter.type,
    payload: letter.payload,
    // The letter keeps no production time: handlers that read it get the failure time.
    timestamp: new Date(letter.failed_at).toISOString(),
  };
  let outcome: RedriveOutcome = 'processed';
  if (spec.ignores?.(event.type)) {
    outcome = 'ignored';
  } else {
    try {
      validate(event.type, event.payload);
    } catch (error) {
      throw new FatalError(
        `event ${event.type} ${event.id} breaks its contract: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const log = logger.child({
      group: spec.group,
      eventId: event.id,
      type: event.type,
      attempt,
      redrive: true,
    });
    if (isBatchSpec(spec)) await spec.handleBatch([event], { tx, attempt, log });
    else await spec.handle(event, { tx, attempt, log });
  }
  await kernel.deleteFrom('dead_letters').where('id', '=', letterId).execute();
  return outcome;
}
