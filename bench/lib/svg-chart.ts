/**
 * A small SVG renderer for bench reports: horizontal bars, one panel for
 * throughput (linear) and one for latency p50/p99 (log scale, since a page
 * of one millisecond and a fan-out of a second share the axis). Plain SVG
 * text, no fonts or scripts to load, so the file renders on GitHub as is.
 */

export interface ChartRow {
  /** The deployment shape or other grouping; rows of one group share a colour. */
  group: string;
  label: string;
  /** Requests per second; rows without it are left out of the throughput panel. */
  rps?: number;
  p50Ms?: number;
  p99Ms?: number;
}

export interface ChartOptions {
  title: string;
  subtitle?: string;
}

const PALETTE = ['#3b6fb6', '#d9822b', '#3f9e5a', '#9b59b6', '#c0392b'];
const ROW = 22;
const LABEL_WIDTH = 430;
const BAR_WIDTH = 330;
const GAP = 60;

const xmlText = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const format = (value: number): string =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);

const tickText = (value: number): string => (Number.isInteger(value) ? String(value) : format(value));

/** Round axis ticks covering [min, max] in powers of ten. */
function decades(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) ticks.push(10 ** e);
  return ticks;
}

/** A "nice" upper bound for a linear axis: 1, 2 or 5 × a power of ten. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 5, 10].find((m) => m * power >= value) ?? 10;
  return step * power;
}

export function renderBarChart(rows: readonly ChartRow[], options: ChartOptions): string {
  const groups = [...new Set(rows.map((r) => r.group))];
  const colour = (group: string) => PALETTE[groups.indexOf(group) % PALETTE.length] as string;
  const throughput = rows.filter((r) => r.rps !== undefined);
  const latency = rows.filter((r) => r.p99Ms !== undefined || r.p50Ms !== undefined);
  const width = LABEL_WIDTH + BAR_WIDTH + 90;
  const parts: string[] = [];
  let y = 30;
  parts.push(`<text x="10" y="${y}" font-size="16" font-weight="bold">${xmlText(options.title)}</text>`);
  if (options.subtitle) {
    y += 18;
    parts.push(`<text x="10" y="${y}" font-size="11" fill="#555">${xmlText(options.subtitle)}</text>`);
  }
  y += 14;
  groups.forEach((group, i) => {
    const x = 10 + i * 260;
    parts.push(`<rect x="${x}" y="${y}" width="12" height="12" fill="${colour(group)}"/>`);
    parts.push(`<text x="${x + 18}" y="${y + 10}" font-size="12">${xmlText(group)}</text>`);
  });
  y += 24;

  if (throughput.length > 0) {
    const max = niceMax(Math.max(...throughput.map((r) => r.rps as number)));
    parts.push(
      `<text x="10" y="${y + 12}" font-size="13" font-weight="bold">Throughput (requests/s, median of rounds)</text>`,
    );
    y += 22;
    const top = y;
    for (const row of throughput) {
      const w = ((row.rps as number) / max) * BAR_WIDTH;
      parts.push(
        `<text x="${LABEL_WIDTH - 6}" y="${y + 14}" font-size="11" text-anchor="end">${xmlText(row.label)}</text>`,
      );
      parts.push(
        `<rect x="${LABEL_WIDTH}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${colour(row.group)}"/>`,
      );
      parts.push(
        `<text x="${LABEL_WIDTH + w + 4}" y="${y + 14}" font-size="11">${format(row.rps as number)}</text>`,
      );
      y += ROW;
    }
    for (let i = 0; i <= 4; i++) {
      const x = LABEL_WIDTH + (i / 4) * BAR_WIDTH;
      parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${y}" stroke="#ccc" stroke-width="0.5"/>`);
      parts.push(
        `<text x="${x}" y="${y + 12}" font-size="10" text-anchor="middle" fill="#555">${tickText((i / 4) * max)}</text>`,
      );
    }
    y += GAP - 20;
  }

  if (latency.length > 0) {
    const values = latency
      .flatMap((r) => [r.p50Ms, r.p99Ms])
      .filter((v): v is number => v !== undefined && v > 0);
    const ticks = decades(Math.min(...values), Math.max(...values));
    const lo = Math.log10(ticks[0] as number);
    const hi = Math.log10(ticks.at(-1) as number);
    const scale = (ms: number) =>
      ((Math.log10(Math.max(ms, ticks[0] as number)) - lo) / Math.max(hi - lo, 1)) * BAR_WIDTH;
    parts.push(
      `<text x="10" y="${y + 12}" font-size="13" font-weight="bold">Latency (ms, log scale): p50 solid, p99 light</text>`,
    );
    y += 22;
    const top = y;
    for (const row of latency) {
      parts.push(
        `<text x="${LABEL_WIDTH - 6}" y="${y + 14}" font-size="11" text-anchor="end">${xmlText(row.label)}</text>`,
      );
      if (row.p99Ms !== undefined) {
        const w = scale(row.p99Ms);
        parts.push(
          `<rect x="${LABEL_WIDTH}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${colour(row.group)}" fill-opacity="0.35"/>`,
        );
        parts.push(
          `<text x="${LABEL_WIDTH + w + 4}" y="${y + 14}" font-size="11">p99 ${format(row.p99Ms)}</text>`,
        );
      }
      if (row.p50Ms !== undefined) {
        const w = scale(row.p50Ms);
        parts.push(
          `<rect x="${LABEL_WIDTH}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${colour(row.group)}"/>`,
        );
      }
      y += ROW;
    }
    for (const tick of ticks) {
      const x = LABEL_WIDTH + scale(tick);
      parts.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${y}" stroke="#ccc" stroke-width="0.5"/>`);
      parts.push(
        `<text x="${x}" y="${y + 12}" font-size="10" text-anchor="middle" fill="#555">${tickText(tick)}</text>`,
      );
    }
    y += 30;
  }

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">`,
    `<rect width="${width}" height="${y}" fill="#fff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
