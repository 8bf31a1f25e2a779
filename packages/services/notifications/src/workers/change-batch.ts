import type { BatchConsumerSpec, ConsumeContext } from '@nova/kernel';
import type { Transaction } from 'kysely';
import type { NotificationChange } from '../domain/kinds.js';
import type { NotificationsTables } from '../store/tables.js';

type Ctx = ConsumeContext<NotificationsTables>;

const collecting = new WeakMap<Ctx, NotificationChange[]>();

/**
 * For a typed handler of a batch consumer made by `collectChangesPerBatch`:
 * notes what its event asks instead of applying it, so the batch's changes
 * are applied together, in log order, when every handler has run.
 */
export function noteChange(ctx: Ctx, change: NotificationChange): void {
  const changes = collecting.get(ctx);
  if (!changes) throw new Error('noteChange outside a batch of collectChangesPerBatch');
  changes.push(change);
}

/**
 * Wraps a typed batch consumer whose handlers call `noteChange`: each batch
 * (and each part of a batch split to isolate a failing event, and each
 * redriven dead letter) collects its changes, then `apply` runs once in the
 * batch's transaction.
 */
export function collectChangesPerBatch(
  spec: BatchConsumerSpec<NotificationsTables>,
  apply: (tx: Transaction<NotificationsTables>, changes: readonly NotificationChange[]) => Promise<void>,
): BatchConsumerSpec<NotificationsTables> {
  return {
    ...spec,
    async handleBatch(events, ctx) {
      // A context of this batch alone: the typed handlers receive it as it is.
      const batch: Ctx = { ...ctx };
      const changes: NotificationChange[] = [];
      collecting.set(batch, changes);
      try {
        await spec.handleBatch(events, batch);
      } finally {
        collecting.delete(batch);
      }
      await apply(ctx.tx, changes);
    },
  };
}
