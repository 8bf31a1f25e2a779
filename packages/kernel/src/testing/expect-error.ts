import { expect } from 'vitest';

/**
 * Asserts that `promise` rejects with an instance of `type` (and, when given, that error's
 * stable `code`): the services' domain errors are checked by class and code, never by message.
 */
export async function expectError(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => Error,
  code?: string,
): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  if (code !== undefined) expect((error as { code?: string }).code).toBe(code);
}
