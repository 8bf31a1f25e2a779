import { describe, expect, it } from 'vitest';
import { parseWrkOutput, totalFailures } from '../../bench/lib/load.js';

// wrk's report layout (wrk.c): the socket-error line appears only when one class is non-zero.
const report = (extra: string) => `Running 10s test @ http://127.0.0.1:8080/health/live
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms  640.00us  20.00ms   90.00%
    Req/Sec    30.00k     1.00k   32.00k    70.00%
  Latency Distribution
     50%    2.00ms
     75%    2.30ms
     90%    2.80ms
     99%    4.50ms
  300000 requests in 10.00s, 40.00MB read
${extra}Requests/sec:  30000.00
Transfer/sec:      4.00MB
`;

describe('wrk output', () => {
  it('reads throughput and latency, with no failures on a clean run', () => {
    const r = parseWrkOutput(report(''));
    expect(r).toMatchObject({ rps: 30000, p50: 2, p99: 4.5 });
    expect(totalFailures(r.failures)).toBe(0);
  });

  it('counts connect, read, write and timeout errors and non-2xx answers as failures', () => {
    const r = parseWrkOutput(
      report('  Socket errors: connect 3, read 12, write 1, timeout 7\n  Non-2xx or 3xx responses: 40\n'),
    );
    expect(r.failures).toEqual({ connect: 3, read: 12, write: 1, timeout: 7, non2xx: 40 });
    expect(totalFailures(r.failures)).toBe(63);
  });

  it('refuses a socket-error line it cannot read instead of counting zero', () => {
    expect(() => parseWrkOutput(report('  Socket errors: connect x\n'))).toThrow(/socket-error line/);
  });
});
