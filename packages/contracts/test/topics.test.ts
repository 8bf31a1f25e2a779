import { describe, expect, it } from 'vitest';
import { authEvents } from '../src/events/auth-events.js';
import { isKnownEventType } from '../src/events/registry.js';
import { socialEvents } from '../src/events/social-events.js';
import { EVENT_TOPICS } from '../src/events/topics.js';

describe('event topics', () => {
  it('put every event type of the registry on exactly one topic, with the registry’s schema', () => {
    const registry = { ...authEvents, ...socialEvents } as Record<string, unknown>;
    const placed = EVENT_TOPICS.flatMap((t) => Object.keys(t.events));
    expect([...placed].sort()).toEqual(Object.keys(registry).sort());
    for (const { events } of EVENT_TOPICS) {
      for (const [type, schema] of Object.entries(events)) {
        expect(isKnownEventType(type)).toBe(true);
        expect(schema).toBe(registry[type]);
      }
    }
  });

  it('name topics nova.<service>.<aggregate>.v1, once each', () => {
    const names = EVENT_TOPICS.map((t) => t.topic);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^nova\.[a-z_]+\.[a-z_]+\.v1$/);
  });
});
