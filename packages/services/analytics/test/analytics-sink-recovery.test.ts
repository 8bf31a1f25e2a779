import { randomUUID } from 'node:crypto';
import { assertEventPayload } from '@nova/contracts';
import {
  createEmbeddedEventLog,
  createLogger,
  createMetricsRegistry,
  type EventLog,
  type Worker,
} from '@nova/kernel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyticsContext } from '../src/context.js';
import { createAnalyticsWriter } from '../src/warehouse/analytics-writer.js';
import type { Warehouse } from '../src/warehouse/warehouse.js';
import { createAnalyticsSink } from '../src/workers/analytics-sink.js';
import { type AnalyticsFixture, eventually, openAnalytics, storeCases } from './support/analytics-fixture.js';

const now = () => new Date().toISOString();

describe.each(storeCases())('the analytics sink stopped mid-stream (%s store, %s)', (shape, database) => {
  let fx: AnalyticsFixture;
  let replacement: Worker | undefined;
  let restartedLog: EventLog | undefined;
  let restartedWarehouse: Warehouse | undefined;
  const author = randomUUID();
  const post = randomUUID();

  beforeAll(async () => {
    fx = await openAnalytics(shape, { database });
    await fx.publishPost(author, post, now());
  });
  afterAll(async () => {
    await replacement?.stop(Date.now() + 5000);
    await restartedLog?.close();
    // Its own handle on the store: an embedded one holds the process's data directory until closed.
    await restartedWarehouse?.close();
    await fx?.close();
  });

  const ingest = (userId: string, n: number) =>
    fx.nova.call('POST', '/api/v1/events', {
      token: `token-${userId}`,
      body: {
        events: Array.from({ length: n }, () => ({
          id: randomUUID(),
          type: 'view',
          ts: now(),
          postId: post,
        })),
      },
    });
  const storedViews = async () => {
    const rows = await fx.warehouse.query<{ views: string | number }>(
      `SELECT uniqExactMerge(events) AS views FROM ${fx.database}.post_hourly WHERE post_id = '${post}' AND type = 'view'`,
    );
    return Number(rows[0]?.views ?? 0);
  };
  const rawCopies = async () => {
    const rows = await fx.warehouse.query<{ n: string | number; ids: string | number }>(
      `SELECT count() AS n, uniqExact(event_id) AS ids FROM ${fx.database}.client_events WHERE post_id = '${post}'`,
    );
    return { rows: Number(rows[0]?.n ?? 0), ids: Number(rows[0]?.ids ?? 0) };
  };

  it('resumes from its checkpoint after a hard stop and a crash after writing: nothing lost, nothing twice', async () => {
    const sink = fx.nova.services.analytics?.workers?.find((w) => w.name.includes('analytics.sink'));
    expect(sink).toBeDefined();
    // Traffic while the sink runs, a stop with no grace in the middle of it (in-flight work abandoned)…
    const users = Array.from({ length: 8 }, () => randomUUID());
    const during = Promise.all(users.map((u) => ingest(u, 50)));
    await new Promise((resolve) => setTimeout(resolve, 30));
    await sink?.stop(Date.now());
    const answers = await during;
    // …and more while no sink runs.
    answers.push(...(await Promise.all(users.map((u) => ingest(u, 25)))));
    expect(answers.every((a) => a.status === 202)).toBe(true);
    const accepted = answers.reduce((sum, a) => sum + a.body.accepted, 0);
    expect(accepted).toBe(8 * 75);

    // The sink as a restarted process runs it (its own event log over the same databases), its
    // first two batches crashing after the store took their rows, before the checkpoint: the
    // log redelivers them.
    restartedLog = createEmbeddedEventLog({
      provider: fx.nova.kernel.databases,
      logger: createLogger('silent'),
      metrics: createMetricsRegistry(),
      validate: assertEventPayload,
      pollIntervalMs: 50,
      checkpointIntervalMs: 20,
    });
    const ctx = await createAnalyticsContext(fx.nova.kernel, { eventLog: restartedLog });
    restartedWarehouse = ctx.warehouse;
    const writer = createAnalyticsWriter(ctx.warehouse, ctx.settings.database);
    let crashes = 0;
    const crashing = {
      ...writer,
      async writeClientEvents(rows: Parameters<typeof writer.writeClientEvents>[0]) {
        await writer.writeClientEvents(rows);
        if (rows.length > 0 && crashes < 2) {
          crashes += 1;
          throw new Error('crash after the store write, before the checkpoint');
        }
      },
    };
    replacement = createAnalyticsSink(ctx, crashing);
    await replacement.start();
    // The first crashed write already holds every row: wait for the redelivery, then let it settle.
    const views = await eventually(storedViews, (v) => crashes === 2 && v >= accepted, 30_000);
    expect(crashes).toBe(2);
    expect(views).toBe(accepted);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await storedViews()).toBe(accepted);
    const raw = await rawCopies();
    expect(raw.ids).toBe(accepted);
    // The crashed batches were written again: copies exist, and still count once.
    expect(raw.rows).toBeGreaterThan(accepted);
    const insights = await fx.nova.call('GET', `/api/v1/analytics/posts/${post}`, {
      token: `token-${author}`,
    });
    expect(insights.body).toMatchObject({ views: accepted, uniqueViewers: 8 });
  });
});
