/**
 * Retries `check` (an assertion) until it passes — for effects that arrive
 * after an event lag — rethrowing its last failure after `timeoutMs`.
 */
export async function eventually(
  check: () => Promise<void>,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }
}
