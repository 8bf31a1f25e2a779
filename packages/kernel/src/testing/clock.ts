/**
 * For tests of time-step protocols (TOTP: 30 s steps, a server tolerance of
 * one step): returns the current step index once at least `marginSeconds`
 * of it remain, waiting for the next step when too close to a boundary. A
 * test that then derives every code from this index (step - 1, step, …)
 * and finishes its requests within the margin sees the same server verdicts
 * whatever the wall clock said when it started.
 */
export async function stepWithMargin(periodSeconds: number, marginSeconds: number): Promise<number> {
  if (marginSeconds >= periodSeconds) throw new Error('the margin must be shorter than the period');
  const periodMs = periodSeconds * 1000;
  const remaining = periodMs - (Date.now() % periodMs);
  if (remaining < marginSeconds * 1000) {
    // 50 ms past the boundary, so no rounding puts "now" back into the old step.
    await new Promise((resolve) => setTimeout(resolve, remaining + 50));
  }
  return Math.floor(Date.now() / periodMs);
}
