import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { analyticsEvents } from './analytics-events.js';
import { authEvents, authInternalEvents } from './auth-events.js';
import { contentEvents } from './content-events.js';
import { liveEvents } from './live-events.js';
import { mediaEvents } from './media-events.js';
import { messagingEvents } from './messaging-events.js';
import { socialEvents } from './social-events.js';

/** Every event type Nova publishes, with its payload schema (version 1). */
const schemas: Record<string, TSchema> = {
  ...authEvents,
  ...authInternalEvents,
  ...socialEvents,
  ...contentEvents,
  ...mediaEvents,
  ...messagingEvents,
  ...analyticsEvents,
  ...liveEvents,
};
const compiled = new Map(
  Object.entries(schemas).map(([type, schema]) => [type, TypeCompiler.Compile(schema)]),
);

export class EventContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventContractError';
  }
}

export function isKnownEventType(type: string): boolean {
  return compiled.has(type);
}

/** Validates a payload against its event type's contract; throws EventContractError. */
export function assertEventPayload(type: string, payload: unknown): void {
  const check = compiled.get(type);
  if (!check) throw new EventContractError(`unknown event type "${type}"`);
  if (!check.Check(payload)) {
    const first = check.Errors(payload).First();
    throw new EventContractError(
      `payload of ${type} breaks its contract at ${first?.path || '/'}: ${first?.message}`,
    );
  }
}
