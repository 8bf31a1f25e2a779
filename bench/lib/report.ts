import os from 'node:os';

export interface Series {
  name: string;
  /** The deployment shape (or other grouping) a series ran on, when a report holds several. */
  group?: string;
  /** One value per round. */
  rps: number[];
  p99Ms: number[];
  p50Ms: number[];
  /** Failed requests per round (connect/read/write/timeout errors and non-2xx answers), when measured. */
  failures?: number[];
  failureKinds?: Record<string, number>;
}

export interface BenchReport {
  scenario: string;
  startedAt: string;
  machine: { cpus: number; model: string; node: string };
  method: string;
  series: Series[];
  /** Named ratios (target median / baseline median) and other figures. */
  figures: Record<string, number | string>;
  /** Latencies measured one operation at a time (not under wrk load): percentiles over the samples. */
  latencies?: LatencyFigure[];
}

export interface LatencyFigure {
  name: string;
  group?: string;
  samples: number;
  p50Ms: number;
  p99Ms: number;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** The value below which p % of the values lie (nearest rank); NaN for none. */
export const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((sorted.length * p) / 100) - 1)] as number;
};

/**
 * Median of the per-round ratios target/baseline: each round's pair ran back
 * to back, so the machine's slow/fast phases cancel out within a pair.
 */
export const pairedRatio = (target: number[], baseline: number[]): number =>
  median(target.map((t, i) => t / (baseline[i] as number)));

export function machine(): BenchReport['machine'] {
  return { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown', node: process.version };
}

export function renderMarkdown(report: BenchReport): string {
  const lines = [
    `# Benchmark: ${report.scenario} (${report.startedAt})`,
    '',
    `Machine: ${report.machine.cpus} × ${report.machine.model}, Node ${report.machine.node}.`,
    '',
    report.method,
    '',
    '| series | median rps | median p50 ms | median p99 ms | rounds (rps) | failed requests |',
    '|---|---|---|---|---|---|',
    ...report.series.map(
      (s) =>
        `| ${s.group ? `${s.group}: ` : ''}${s.name} | ${median(s.rps).toFixed(0)} | ${median(s.p50Ms).toFixed(2)} | ${median(s.p99Ms).toFixed(2)} | ${s.rps.map((r) => r.toFixed(0)).join(', ')} | ${failureCell(s)} |`,
    ),
    '',
    ...failureWarning(report.series),
    ...latencyTable(report.latencies ?? []),
    '| figure | value |',
    '|---|---|',
    ...Object.entries(report.figures).map(
      ([k, v]) => `| ${k} | ${typeof v === 'number' ? v.toFixed(3) : v} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

function latencyTable(latencies: LatencyFigure[]): string[] {
  if (latencies.length === 0) return [];
  return [
    '| one operation at a time | samples | p50 ms | p99 ms |',
    '|---|---|---|---|',
    ...latencies.map(
      (l) =>
        `| ${l.group ? `${l.group}: ` : ''}${l.name} | ${l.samples} | ${l.p50Ms.toFixed(1)} | ${l.p99Ms.toFixed(1)} |`,
    ),
    '',
  ];
}

function failureCell(s: Series): string {
  if (!s.failures) return 'not measured';
  const total = s.failures.reduce((a, b) => a + b, 0);
  if (total === 0) return '0';
  const kinds = Object.entries(s.failureKinds ?? {})
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind} ${n}`);
  return `**${total}** (${kinds.join(', ')})`;
}

/** Throughput with failures in it is not comparable: say so above the figures. */
function failureWarning(series: Series[]): string[] {
  const failing = series.filter((s) => (s.failures ?? []).some((n) => n > 0)).map((s) => s.name);
  if (failing.length === 0) return [];
  return [
    `**Requests failed in: ${failing.join(', ')}** — their rps includes failed requests; treat the figures as invalid.`,
    '',
  ];
}
