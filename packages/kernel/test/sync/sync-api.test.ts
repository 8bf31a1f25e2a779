import { context, propagation, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { Type } from '@sinclair/typebox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  bindInProcess,
  type CallContext,
  createLogger,
  createMetricsRegistry,
  defineSyncApi,
  InternalError,
  NotFoundError,
  type Principal,
  type SyncApiClient,
  type SyncApiHandlers,
  UnauthenticatedError,
  UnavailableError,
  UpstreamUnavailableError,
  ValidationError,
} from '../../src/index.js';
import { createSyncClient, createSyncServer, type SyncServer } from '../../src/sync/grpc/index.js';

/**
 * The sync-API contract, run against both bindings: a direct call in one
 * process, and gRPC over a real socket on localhost. The network-only part
 * (deadlines, retries, the breaker, validation, the internal token) runs the
 * real server and stops it for real.
 */
const ledgerApi = defineSyncApi('ledger', 1, {
  getEntries: {
    request: Type.Object({ ids: Type.Array(Type.String(), { maxItems: 10 }) }),
    response: Type.Object({
      entries: Type.Array(Type.Object({ id: Type.String(), amount: Type.Integer() })),
    }),
    idempotent: true,
    deadlineMs: 1000,
  },
  addEntry: {
    request: Type.Object({ id: Type.String(), amount: Type.Integer() }),
    response: Type.Object({ total: Type.Integer() }),
    idempotent: false,
  },
  whoAmI: {
    request: Type.Object({}),
    response: Type.Object({
      caller: Type.String(),
      userId: Type.Union([Type.String(), Type.Null()]),
      traceId: Type.Union([Type.String(), Type.Null()]),
      activeTraceId: Type.Union([Type.String(), Type.Null()]),
    }),
    idempotent: true,
  },
});
type Ledger = typeof ledgerApi;

/** The service side: a real (if small) implementation with knobs to misbehave. */
function createLedger() {
  const entries = new Map<string, number>();
  const state = { calls: { getEntries: 0, addEntry: 0 }, failNext: 0, delayMs: 0 };
  const misbehave = async () => {
    if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
    if (state.failNext > 0) {
      state.failNext--;
      throw new UnavailableError('ledger_store_unavailable', 'The ledger store is down.');
    }
  };
  const handlers: SyncApiHandlers<Ledger> = {
    async getEntries({ ids }) {
      state.calls.getEntries++;
      await misbehave();
      if (ids.includes('missing')) throw new NotFoundError('entry_not_found', 'No such entry.');
      if (ids.includes('secret')) throw new UnauthenticatedError('invalid_token', 'Not for you.');
      if (ids.includes('bug')) throw new Error('SELECT * FROM secret_table failed');
      return {
        entries: ids.flatMap((id) => (entries.has(id) ? [{ id, amount: entries.get(id) ?? 0 }] : [])),
      };
    },
    async addEntry({ id, amount }) {
      state.calls.addEntry++;
      await misbehave();
      entries.set(id, (entries.get(id) ?? 0) + amount);
      return { total: [...entries.values()].reduce((a, b) => a + b, 0) };
    },
    async whoAmI(_request, ctx: CallContext) {
      return {
        caller: ctx.caller,
        userId: ctx.principal?.userId ?? null,
        traceId: trace.getSpanContext(ctx.trace)?.traceId ?? null,
        activeTraceId: trace.getSpanContext(context.active())?.traceId ?? null,
      };
    },
  };
  return { handlers, state };
}

const principal: Principal = { userId: 'user-1', sessionId: 's-1', tokenId: 't-1', expiresAt: 2_000_000_000 };
const TOKEN = 'internal-token-of-at-least-32-chars!!';
const logger = createLogger('silent');

beforeAll(() => {
  // What the tracing SDK does in a real process: a W3C propagator and an async context manager.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  propagation.disable();
  context.disable();
});

/** Runs `fn` inside a (non-recording) span context, as a traced HTTP request would. */
function inTrace<T>(fn: () => Promise<T>): { traceId: string; result: Promise<T> } {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const ctx = trace.setSpanContext(ROOT_CONTEXT, {
    traceId,
    spanId: '00f067aa0ba902b7',
    traceFlags: TraceFlags.SAMPLED,
  });
  return { traceId, result: context.with(ctx, fn) };
}

interface Binding {
  client: SyncApiClient<Ledger>;
  ledger: ReturnType<typeof createLedger>;
  close(): Promise<void>;
}

async function grpcBinding(
  options: Parameters<typeof createSyncClient>[1] extends infer O ? Partial<O> : never = {},
) {
  const ledger = createLedger();
  const metrics = createMetricsRegistry();
  const server = createSyncServer({
    apis: [{ definition: ledgerApi, handlers: ledger.handlers }],
    internalToken: TOKEN,
    logger,
    metrics,
  });
  const port = await server.listen('127.0.0.1', 0);
  const client = createSyncClient(ledgerApi, {
    url: `grpc://127.0.0.1:${port}`,
    caller: 'test-caller',
    internalToken: TOKEN,
    logger,
    metrics,
    backoffMs: 5,
    ...options,
  });
  return {
    client,
    ledger,
    metrics,
    server,
    port,
    async close() {
      client.close();
      await server.stop(Date.now() + 1000);
    },
  };
}

const BINDINGS: Record<string, () => Promise<Binding>> = {
  'in-process': async () => {
    const ledger = createLedger();
    return { client: bindInProcess(ledgerApi, ledger.handlers), ledger, close: async () => undefined };
  },
  gRPC: grpcBinding,
};

for (const [name, make] of Object.entries(BINDINGS)) {
  describe(`sync API contract (${name} binding)`, () => {
    let binding: Binding;
    beforeAll(async () => {
      binding = await make();
    });
    afterAll(() => binding.close());

    it('calls batch methods and returns what the service answers', async () => {
      const { client } = binding;
      expect(await client.addEntry({ id: 'a', amount: 5 })).toEqual({ total: 5 });
      expect(await client.addEntry({ id: 'b', amount: 7 })).toEqual({ total: 12 });
      expect(await client.getEntries({ ids: ['b', 'nope', 'a'] })).toEqual({
        entries: [
          { id: 'b', amount: 7 },
          { id: 'a', amount: 5 },
        ],
      });
    });

    it("keeps the service's typed errors (class, status, code); hides unexpected ones", async () => {
      const { client } = binding;
      const notFound = await client.getEntries({ ids: ['missing'] }).catch((e: unknown) => e);
      expect(notFound).toBeInstanceOf(NotFoundError);
      expect(notFound).toMatchObject({ status: 404, code: 'entry_not_found' });
      const unauthenticated = await client.getEntries({ ids: ['secret'] }).catch((e: unknown) => e);
      expect(unauthenticated).toBeInstanceOf(UnauthenticatedError);
      expect(unauthenticated).toMatchObject({ code: 'invalid_token' });
      const bug = await client.getEntries({ ids: ['bug'] }).catch((e: unknown) => e);
      if (name === 'in-process') expect((bug as Error).message).toContain('secret_table');
      else {
        expect(bug).toBeInstanceOf(InternalError);
        expect(JSON.stringify(bug)).not.toContain('secret_table');
      }
    });

    it("carries the caller's principal and trace context to the handler", async () => {
      const { client } = binding;
      const anonymous = await client.whoAmI({});
      expect(anonymous).toMatchObject({ userId: null, traceId: null });
      const { traceId, result } = inTrace(() => client.whoAmI({}, { principal }));
      const seen = await result;
      expect(seen).toMatchObject({ userId: 'user-1', traceId, activeTraceId: traceId });
      expect(seen.caller).toBe(name === 'gRPC' ? 'test-caller' : 'in-process');
    });
  });
}

describe('sync API over gRPC: deadlines, retries, breaker, validation, internal token', () => {
  let current: Awaited<ReturnType<typeof grpcBinding>> | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });

  it('turns an exceeded deadline into UpstreamUnavailableError (503), not a hang', async () => {
    current = await grpcBinding({ maxAttempts: 1 });
    current.ledger.state.delayMs = 400;
    const started = Date.now();
    const error = await current.client.getEntries({ ids: [] }, { deadlineMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpstreamUnavailableError);
    expect(error).toMatchObject({ status: 503, code: 'upstream_unavailable', reason: 'deadline exceeded' });
    expect(Date.now() - started).toBeLessThan(350);
  });

  it('retries idempotent reads with backoff, never writes', async () => {
    current = await grpcBinding({ maxAttempts: 3 });
    const { client, ledger } = current;
    ledger.state.failNext = 2;
    expect(await client.getEntries({ ids: [] })).toEqual({ entries: [] });
    expect(ledger.state.calls.getEntries).toBe(3);

    ledger.state.failNext = 1;
    const write = await client.addEntry({ id: 'x', amount: 1 }).catch((e: unknown) => e);
    expect(write).toBeInstanceOf(UnavailableError);
    expect(write).toMatchObject({ code: 'ledger_store_unavailable' });
    expect(ledger.state.calls.addEntry).toBe(1);

    // A business error is an answer, not an outage: no retry.
    const before = ledger.state.calls.getEntries;
    await expect(client.getEntries({ ids: ['missing'] })).rejects.toBeInstanceOf(NotFoundError);
    expect(ledger.state.calls.getEntries).toBe(before + 1);
    const text = await current.metrics.metrics();
    expect(text).toMatch(/nova_sync_client_retries_total\{upstream="ledger",method="getEntries"\} 2/);
  });

  // Long enough that a loaded machine does not see the circuit half-open before the test looks.
  const OPEN_MS = 1500;
  it('opens the circuit after consecutive failures, fails fast, probes half-open and closes again', async () => {
    current = await grpcBinding({ maxAttempts: 1, breaker: { failureThreshold: 3, openMs: OPEN_MS } });
    const { client, server, port } = current;
    await client.getEntries({ ids: [] });
    await server.stop(Date.now() + 500); // a real outage: nobody listens on the port any more
    for (let i = 0; i < 3; i++) {
      await expect(client.getEntries({ ids: [] })).rejects.toBeInstanceOf(UpstreamUnavailableError);
    }
    expect(client.circuit).toBe('open');
    const started = Date.now();
    const fast = await client.getEntries({ ids: [] }).catch((e: unknown) => e);
    expect(fast).toMatchObject({ code: 'upstream_unavailable', reason: 'circuit open' });
    expect((fast as UpstreamUnavailableError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // No network attempt: far below one connect, even on a loaded machine.
    expect(Date.now() - started).toBeLessThan(250);

    // Half-open: one probe goes out; it fails while the upstream is still down, so the circuit re-opens.
    await new Promise((r) => setTimeout(r, OPEN_MS + 100));
    expect(client.circuit).toBe('half-open');
    await expect(client.getEntries({ ids: [] })).rejects.toMatchObject({
      reason: expect.not.stringMatching(/circuit/),
    });
    expect(client.circuit).toBe('open');

    // The upstream comes back on the same address; the next probe closes the circuit.
    const ledger = createLedger();
    const revived: SyncServer = createSyncServer({
      apis: [{ definition: ledgerApi, handlers: ledger.handlers }],
      internalToken: TOKEN,
      logger,
      metrics: createMetricsRegistry(),
    });
    await revived.listen('127.0.0.1', port);
    try {
      await new Promise((r) => setTimeout(r, OPEN_MS + 100));
      const probe = await pollUntil(() => client.getEntries({ ids: [] }));
      expect(probe).toEqual({ entries: [] });
      expect(client.circuit).toBe('closed');
      const text = await current.metrics.metrics();
      expect(text).toMatch(
        /nova_sync_client_requests_total\{upstream="ledger",method="getEntries",outcome="circuit_open"\} [1-9]/,
      );
    } finally {
      await revived.stop(Date.now() + 500);
    }
  });

  it('refuses a request that breaks the schema with a typed ValidationError (INVALID_ARGUMENT)', async () => {
    current = await grpcBinding();
    const { client, ledger } = current;
    const bad = await client
      .getEntries({ ids: 'everything' } as unknown as { ids: string[] })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect(bad).toMatchObject({ status: 400, code: 'invalid_argument' });
    expect((bad as ValidationError).issues[0]?.field).toBe('/ids');
    const tooMany = await client
      .getEntries({ ids: Array.from({ length: 11 }, String) })
      .catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(ValidationError);
    expect(ledger.state.calls.getEntries).toBe(0);
  });

  it('refuses callers without the internal token as a deployment error, never as the user’s 401', async () => {
    current = await grpcBinding();
    for (const internalToken of [undefined, 'wrong-token-but-long-enough-to-look-real']) {
      const stranger = createSyncClient(ledgerApi, {
        url: `grpc://127.0.0.1:${current.port}`,
        caller: 'stranger',
        internalToken,
        logger,
        metrics: createMetricsRegistry(),
      });
      try {
        const refused = await stranger.getEntries({ ids: [] }).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(InternalError);
        expect(refused).not.toBeInstanceOf(UnauthenticatedError);
      } finally {
        stranger.close();
      }
    }
    expect(current.ledger.state.calls.getEntries).toBe(0);
  });
});

/** The reconnect after a restart may take a few attempts while the channel backs off. */
async function pollUntil<T>(probe: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
