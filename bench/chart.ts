// `npm run bench:chart -- bench/results/<scenario>-<time>.json [more reports of that scenario]`:
// the reports' throughput and latency in one SVG beside the first, and as <scenario>-latest.svg.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type BenchReport, median } from './lib/report.js';
import { type ChartRow, renderBarChart } from './lib/svg-chart.js';

/** The chart's rows of a report: each series' medians of its rounds, then the one-at-a-time latencies. */
export function chartRows(report: BenchReport): ChartRow[] {
  const rows: ChartRow[] = report.series.map((s) => {
    // A series with failed requests is not a valid figure: the chart says so beside it.
    const failed = (s.failures ?? []).reduce((a, b) => a + b, 0);
    return {
      group: s.group ?? report.scenario,
      label: failed > 0 ? `${s.name} [${failed} failed: invalid]` : s.name,
      rps: median(s.rps),
      p50Ms: median(s.p50Ms),
      p99Ms: median(s.p99Ms),
    };
  });
  for (const l of report.latencies ?? [])
    rows.push({
      group: l.group ?? report.scenario,
      label: `${l.name} (${l.samples}×)`,
      p50Ms: l.p50Ms,
      p99Ms: l.p99Ms,
    });
  return rows;
}

const files = process.argv.slice(2);
const file = files[0];
if (!file) {
  process.stderr.write('usage: npm run bench:chart -- bench/results/<scenario>-<time>.json [...]\n');
  process.exit(2);
}
const reports = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as BenchReport);
const report = reports[0] as BenchReport;
const svg = renderBarChart(reports.flatMap(chartRows), {
  title: `${report.scenario} — ${reports.map((r) => r.startedAt).join(', ')}`,
  subtitle: `${report.machine.cpus} × ${report.machine.model}, Node ${report.machine.node}; ${files.map((f) => path.basename(f)).join(', ')}`,
});
const out = file.replace(/\.json$/, '.svg');
writeFileSync(out, svg);
writeFileSync(path.join(path.dirname(file), `${report.scenario}-latest.svg`), svg);
process.stdout.write(`${out}\n`);
