import { randomBytes } from 'node:crypto';
import {
  ancestorsOf,
  OTLP_KIND,
  type OtlpReceiver,
  type ReceivedSpan,
  startOtlpReceiver,
} from '@nova/kernel/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningNova, signUp as signUpAt, startNova } from './harness.js';

// One follow request and one registration, traced by a real `npm start`
// process that exports OTLP/HTTP JSON to a receiver inside this test.

const KIND = OTLP_KIND;

const ADMIN_URL = process.env.NOVA_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const SHAPES = [
  { name: 'PGlite', postgres: false },
  { name: 'PostgreSQL', postgres: true },
] as const;

describe.each(SHAPES)('OpenTelemetry traces over OTLP ($name)', ({ postgres }) => {
  let receiver: OtlpReceiver;
  let nova: RunningNova;
  let admin: pg.Client | undefined;
  const dbName = `nova_e2e_trace_${process.pid}_${Date.now()}`;
  const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const env: Record<string, string> = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'nova-trace-test',
    };
    if (postgres) {
      admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${dbName}`);
      env.DATABASE_URL = ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`);
    }
    // PGlite's first open can take a minute on a loaded 2-core machine.
    nova = await startNova({ env, readyTimeoutMs: 180_000 });
  }, 240_000);
  afterAll(async () => {
    await nova?.stop();
    nova?.cleanup();
    await receiver?.close();
    await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin?.end();
  });

  async function call(method: string, path: string, token?: string, body?: unknown) {
    const response = await fetch(`${nova.url}/api/v1${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  }

  const signUp = (name: string) => signUpAt((p) => `${nova.url}${p}`, `${name}${run}`);

  const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);
  const ancestors = ancestorsOf;

  async function serverSpan(route: string, path: string): Promise<ReceivedSpan> {
    await expect
      .poll(
        () =>
          receiver.spans.some(
            (s) =>
              s.kind === KIND.server &&
              s.attributes['http.route'] === route &&
              s.attributes['url.path'] === path,
          ),
        { timeout: 15_000, interval: 200 },
      )
      .toBe(true);
    const span = receiver.spans.find(
      (s) =>
        s.kind === KIND.server && s.attributes['http.route'] === route && s.attributes['url.path'] === path,
    );
    return span as ReceivedSpan;
  }

  it('one follow request: HTTP server span → SQL spans → outbox write (follow.created), one trace', async () => {
    const alice = await signUp('tra');
    const bob = await signUp('trb');
    const followed = await call('POST', `/users/${bob.id}/follow`, alice.token);
    expect(followed.status).toBe(200);

    const server = await serverSpan('/api/v1/users/:id/follow', `/api/v1/users/${bob.id}/follow`);
    expect(server.name).toBe('POST /api/v1/users/:id/follow');
    expect(server.attributes['http.response.status_code']).toBe(200);
    expect(server.service).toBe('nova-trace-test');
    expect(/^[0-9a-f]{32}$/.test(server.traceId)).toBe(true);

    // The outbox write and its statements may be exported a moment later, and a child can be
    // exported in an earlier batch than the span between it and the server span (spans are
    // exported as they end, parents last): wait until every statement's chain is in.
    const isPostgres = (s: ReceivedSpan) =>
      s.kind === KIND.client && s.attributes['db.system.name'] === 'postgresql';
    await expect
      .poll(
        () => {
          const received = spansOf(server.traceId);
          return (
            received.some((s) => s.kind === KIND.producer) &&
            received
              .filter(isPostgres)
              .every((s) => ancestors(s, received).some((a) => a.spanId === server.spanId))
          );
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    const trace = spansOf(server.traceId);
    const sql = trace.filter(isPostgres);
    expect(sql.length).toBeGreaterThan(2);
    for (const statement of sql) {
      expect(ancestors(statement, trace)).toContainEqual(server);
      // Statement text only: the ids travel as $n parameters.
      expect(String(statement.attributes['db.query.text'])).not.toContain(bob.id);
    }
    expect(sql.some((s) => s.parentSpanId === server.spanId)).toBe(true);
    expect(sql.some((s) => String(s.attributes['db.query.text']).startsWith('begin'))).toBe(true);

    const outbox = trace.find((s) => s.kind === KIND.producer);
    expect(outbox?.name).toBe('outbox write social');
    expect(String(outbox?.attributes['nova.event.types'])).toContain('follow.created');
    expect(ancestors(outbox as ReceivedSpan, trace)).toContainEqual(server);
    const outboxInsert = sql.find(
      (s) => s.parentSpanId === outbox?.spanId && String(s.attributes['db.query.text']).includes('"outbox"'),
    );
    expect(outboxInsert?.name).toBe('INSERT social');

    if (admin) {
      // The row carries the outbox span's context (what the relay puts in the Kafka header).
      const db = new pg.Client({ connectionString: ADMIN_URL.replace(/\/[^/]*$/, `/${dbName}`) });
      await db.connect();
      try {
        const { rows } = await db.query<{ traceparent: string }>(
          `select traceparent from social.outbox where type = 'follow.created' order by seq desc limit 1`,
        );
        expect(rows[0]?.traceparent).toBe(`00-${server.traceId}-${outbox?.spanId}-01`);
      } finally {
        await db.end();
      }
    }
  });

  it('a registration: HTTP → outbox write (user.registered) → the consumers’ spans, one trace', async () => {
    // The client starts the trace, so the test knows its id.
    const traceId = randomBytes(16).toString('hex');
    const clientSpan = randomBytes(8).toString('hex');
    const username = `tre${run}`;
    const response = await fetch(`${nova.url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${clientSpan}-01` },
      body: JSON.stringify({
        email: `${username}@example.test`,
        username,
        password: 'correct horse battery staple',
      }),
    });
    expect(response.status).toBe(201);
    await expect
      .poll(
        () =>
          spansOf(traceId).some(
            (s) =>
              s.kind === KIND.consumer &&
              String(s.attributes['messaging.consumer.group.name']).startsWith('social.'),
          ),
        { timeout: 15_000, interval: 200 },
      )
      .toBe(true);
    const trace = spansOf(traceId);
    const server = trace.find((s) => s.kind === KIND.server) as ReceivedSpan;
    expect(server.name).toBe('POST /api/v1/auth/register');
    expect(server.parentSpanId).toBe(clientSpan);
    const outbox = trace.find((s) => s.kind === KIND.producer);
    expect(outbox?.name).toBe('outbox write auth');
    expect(String(outbox?.attributes['nova.event.types'])).toContain('user.registered');
    expect(ancestors(outbox as ReceivedSpan, trace)).toContainEqual(server);
    const consumers = trace.filter((s) => s.kind === KIND.consumer);
    for (const consumer of consumers) {
      expect(consumer.name).toBe('nova.auth.user.v1 process');
      expect(consumer.parentSpanId).toBe(outbox?.spanId); // child of the producer span
      // A per-event consumer names its event's type; a batch consumer (one span per batch,
      // here a batch of this one event) the set of types it applied.
      if (consumer.attributes['messaging.batch.message_count'] === undefined)
        expect(consumer.attributes['nova.event.type']).toBe('user.registered');
      else expect(String(consumer.attributes['nova.event.types']).split(',')).toContain('user.registered');
    }
    // The consumer's own statements (its processed-event record, its effects) sit under its span.
    const social = consumers.find((c) =>
      String(c.attributes['messaging.consumer.group.name']).startsWith('social.'),
    );
    const consumerSql = trace.filter((s) => s.parentSpanId === social?.spanId && s.kind === KIND.client);
    expect(consumerSql.some((s) => String(s.attributes['db.query.text']).includes('processed_events'))).toBe(
      true,
    );
    expect(consumerSql.some((s) => s.name === 'INSERT social')).toBe(true);
    // Nothing of the request body (e-mail, password) is in any statement text.
    for (const statement of trace.filter((s) => s.kind === KIND.client))
      expect(String(statement.attributes['db.query.text'])).not.toContain(username);
  });

  it('problem+json traceId is the trace id of the request’s span', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const dave = await signUp('trd');
    const problem = await call('POST', `/users/${missing}/follow`, dave.token);
    expect(problem.status).toBe(404);
    const server = await serverSpan('/api/v1/users/:id/follow', `/api/v1/users/${missing}/follow`);
    expect(server.attributes['http.response.status_code']).toBe(404);
    expect(problem.body.traceId).toBe(server.traceId);

    // An incoming W3C traceparent is continued: same trace id, our span its child.
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await fetch(`${nova.url}/api/v1/users/${missing}/follow`, {
      method: 'POST',
      headers: { authorization: `Bearer ${dave.token}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(((await response.json()) as { traceId: string }).traceId).toBe(traceId);
    await expect
      .poll(() => spansOf(traceId).find((s) => s.kind === KIND.server)?.parentSpanId, { timeout: 15_000 })
      .toBe('00f067aa0ba902b7');
    expect(receiver.requests.every((r) => r.contentType.startsWith('application/json'))).toBe(true);
  });
});
