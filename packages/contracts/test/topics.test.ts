import { describe, expect, it } from 'vitest';
import { analyticsEvents } from '../src/events/analytics-events.js';
import { authEvents, authInternalEvents } from '../src/events/auth-events.js';
import { contentEvents } from '../src/events/content-events.js';
import { liveEvents } from '../src/events/live-events.js';
import { mediaEvents } from '../src/events/media-events.js';
import { messagingEvents } from '../src/events/messaging-events.js';
import { isKnownEventType } from '../src/events/registry.js';
import { socialEvents } from '../src/events/social-events.js';
import { EVENT_TOPICS, PUBLIC_EVENT_TOPICS } from '../src/events/topics.js';

describe('event topics', () => {
  it('put every event type of the registry on exactly one topic, with the registry’s schema', () => {
    const registry = {
      ...authEvents,
      ...authInternalEvents,
      ...socialEvents,
      ...contentEvents,
      ...mediaEvents,
      ...messagingEvents,
      ...analyticsEvents,
      ...liveEvents,
    } as Record<string, unknown>;
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

  it('keep personal data and internal requests off the public topics', () => {
    // Every property name anywhere in a payload schema (nested objects, unions, arrays).
    const properties = (schema: unknown): string[] => {
      if (typeof schema !== 'object' || schema === null) return [];
      const node = schema as Record<string, unknown>;
      const own = node.properties ? Object.keys(node.properties as object) : [];
      return [
        ...own,
        ...Object.values(node).flatMap((child) =>
          Array.isArray(child) ? child.flatMap(properties) : properties(child),
        ),
      ];
    };
    const internalTypes = EVENT_TOPICS.filter((t) => t.internal).flatMap((t) => Object.keys(t.events));
    expect(internalTypes).toContain('user.password_reset_requested');
    expect(PUBLIC_EVENT_TOPICS.map((t) => t.topic)).toContain('nova.auth.user.v1');
    for (const { topic, events } of PUBLIC_EVENT_TOPICS) {
      for (const [type, schema] of Object.entries(events)) {
        expect(internalTypes, `${topic} carries ${type}`).not.toContain(type);
        expect(properties(schema), `${type} on ${topic}`).not.toContain('email');
        // The server relays end-to-end encrypted messages: not even their ciphertext leaves messaging.
        expect(properties(schema), `${type} on ${topic}`).not.toContain('ciphertext');
        expect(properties(schema), `${type} on ${topic}`).not.toContain('envelopes');
      }
    }
  });
});
