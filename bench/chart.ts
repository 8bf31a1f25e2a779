// `npm run bench:chart -- bench/results/<scenario>-<time>.json`: the report's throughput and
// latency as an SVG beside it, and as bench/results/<scenario>-latest.svg.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type BenchReport, median } from './lib/report.js';
import { type ChartRow, renderBarChart } from './lib/svg-chart.js';

/** The chart's rows of a report: each series' medians of its rounds, then the one-at-a-time latencies. */
export function chartRows(report: BenchReport): ChartRow[] {
  const rows: ChartRow[] = report.series.map((s) => ({
    group: s.group ?? report.scenario,
    label: s.name,
    rps: median(s.rps),
    p50Ms: median(s.p50Ms),
    p99Ms: median(s.p99Ms),
  }));
  for (const l of report.latencies ?? [])
    rows.push({
      group: l.group ?? report.scenario,
      label: `${l.name} (${l.samples}×)`,
      p50Ms: l.p50Ms,
      p99Ms: l.p99Ms,
    });
  return rows;
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: npm run bench:chart -- bench/results/<scenario>-<time>.json\n');
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
const svg = renderBarChart(chartRows(report), {
  title: `${report.scenario} — ${report.startedAt}`,
  subtitle: `${report.machine.cpus} × ${report.machine.model}, Node ${report.machine.node}; ${path.basename(file)}`,
});
const out = file.replace(/\.json$/, '.svg');
writeFileSync(out, svg);
writeFileSync(path.join(path.dirname(file), `${report.scenario}-latest.svg`), svg);
process.stdout.write(`${out}\n`);
