import { inTransaction, ValidationError } from '@nova/kernel';
import type { AnalyticsContext } from '../context.js';
import { checkClientEvents, MAX_EVENTS_PER_REQUEST } from '../domain/client-event-rules.js';
import { clientEventsBatch } from '../events.js';
import { eventIdRepository } from '../store/event-id-repository.js';

export interface IngestOutcome {
  accepted: number;
  duplicates: number;
}

/**
 * POST /events: checks every event, then in one transaction claims the new
 * ids (deduplication across processes: the primary key decides) and writes
 * the accepted ones to the outbox. Never touches the analytics store: the
 * sink brings them there from the log. A batch with any bad event is
 * refused whole, naming each problem.
 */
export function createIngestCommand(ctx: AnalyticsContext) {
  return async function ingest(userId: string, raw: readonly unknown[]): Promise<IngestOutcome> {
    if (raw.length > MAX_EVENTS_PER_REQUEST) {
      throw new ValidationError(`At most ${MAX_EVENTS_PER_REQUEST} events per request.`, [
        { field: '/events', message: `${raw.length} events; at most ${MAX_EVENTS_PER_REQUEST}` },
      ]);
    }
    const now = new Date();
    const checked = checkClientEvents(raw, {
      now: now.getTime(),
      maxAgeMs: ctx.settings.maxEventAgeMs,
      maxAheadMs: ctx.settings.maxClockAheadMs,
    });
    if (checked.issues.length > 0) {
      throw new ValidationError(
        'Some events are invalid; none of this batch was stored.',
        checked.issues,
        'invalid_events',
      );
    }
    if (checked.events.length === 0) return { accepted: 0, duplicates: checked.repeated };
    return inTransaction(ctx.database, async (tx) => {
      const fresh = await eventIdRepository.claim(
        tx,
        checked.events.map((event) => event.id),
      );
      const accepted = checked.events.filter((event) => fresh.has(event.id));
      if (accepted.length > 0) await ctx.outbox.write(tx, [clientEventsBatch(userId, now, accepted)]);
      return {
        accepted: accepted.length,
        duplicates: checked.repeated + checked.events.length - accepted.length,
      };
    });
  };
}
