import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkClientEvents } from '../src/domain/client-event-rules.js';

const NOW = Date.parse('2026-12-03T12:00:00.000Z');
const clock = { now: NOW, maxAgeMs: 72 * 3_600_000, maxAheadMs: 300_000 };
const ts = new Date(NOW - 1000).toISOString();
const postId = randomUUID();

const fieldsOf = (candidate: unknown) => checkClientEvents([candidate], clock).issues.map((i) => i.field);

describe('client event rules', () => {
  it('accepts a well-formed event of every type, as its log record', () => {
    const id = randomUUID().toUpperCase();
    const batch = [
      { id, type: 'view', ts, postId },
      { id: randomUUID(), type: 'impression', ts, postId },
      { id: randomUUID(), type: 'dwell', ts, postId, ms: 86_400_000 },
      { id: randomUUID(), type: 'share', ts, postId },
      { id: randomUUID(), type: 'click', ts, target: '€'.repeat(256) },
      { id: randomUUID(), type: 'app_open', ts: '2026-12-03T13:04:59+01:00' },
    ];
    const checked = checkClientEvents(batch, clock);
    expect(checked.issues).toEqual([]);
    expect(checked.events).toHaveLength(6);
    expect(checked.events[0]).toEqual({
      id: id.toLowerCase(),
      type: 'view',
      postId,
      target: null,
      ms: null,
      clientTs: ts,
    });
    expect(checked.events[5]?.clientTs).toBe('2026-12-03T12:04:59.000Z');
  });

  it('names the problem of every event the common shape refuses', () => {
    expect(fieldsOf({ id: randomUUID(), type: 'toString', ts })).toEqual(['/events/0/type']);
    expect(fieldsOf({ id: randomUUID(), type: '__proto__', ts })).toEqual(['/events/0/type']);
    expect(fieldsOf({ id: randomUUID(), type: 'view', ts, postId, ms: 1 })).toEqual(['/events/0/ms']);
    expect(fieldsOf({ id: randomUUID(), type: 'dwell', ts, postId, ms: 1.5 })).toEqual(['/events/0/ms']);
    expect(fieldsOf({ id: randomUUID(), type: 'dwell', ts, postId, ms: 86_400_001 })).toEqual([
      '/events/0/ms',
    ]);
    expect(fieldsOf({ id: randomUUID(), type: 'click', ts, target: '' })).toEqual(['/events/0/target']);
    expect(fieldsOf({ id: `${randomUUID()}0`, type: 'share', ts, postId })).toEqual(['/events/0/id']);
    expect(fieldsOf({ id: randomUUID(), type: 'view', ts: '2026-12-03', postId })).toEqual(['/events/0/ts']);
    expect(fieldsOf({ id: randomUUID(), type: 'view', ts: `${ts}${' '.repeat(60)}`, postId })).toEqual([
      '/events/0/ts',
    ]);
    expect(fieldsOf([])).toEqual(['/events/0']);
  });

  it('bounds the clock skew and the size of a well-formed event', () => {
    const late = new Date(NOW - 73 * 3_600_000).toISOString();
    const ahead = new Date(NOW + 301_000).toISOString();
    expect(fieldsOf({ id: randomUUID(), type: 'view', ts: late, postId })).toEqual(['/events/0/ts']);
    expect(fieldsOf({ id: randomUUID(), type: 'view', ts: ahead, postId })).toEqual(['/events/0/ts']);
    // 256 characters, but 1,536 bytes as JSON: a control character is escaped as \u0001.
    expect(fieldsOf({ id: randomUUID(), type: 'click', ts, target: '\u0001'.repeat(256) })).toEqual([
      '/events/0',
    ]);
  });

  it('counts a repeated id in the batch once', () => {
    const event = { id: randomUUID(), type: 'view', ts, postId };
    const checked = checkClientEvents([event, { ...event, id: event.id.toUpperCase() }], clock);
    expect(checked.events).toHaveLength(1);
    expect(checked.repeated).toBe(1);
  });
});
