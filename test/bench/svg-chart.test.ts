import { describe, expect, it } from 'vitest';
import { renderBarChart } from '../../bench/lib/svg-chart.js';

const widths = (svg: string, opacity: boolean): number[] =>
  [
    ...svg.matchAll(
      /<rect x="430" y="[\d.]+" width="([\d.]+)" height="16" fill="#[0-9a-f]+"( fill-opacity="0.35")?\/>/g,
    ),
  ]
    .filter((m) => Boolean(m[2]) === opacity)
    .map((m) => Number(m[1]));

describe('bench SVG chart', () => {
  const rows = [
    { group: 'PostgreSQL + Redis', label: 'GET /health/live', rps: 8000, p50Ms: 2, p99Ms: 20 },
    { group: 'PostgreSQL + Redis', label: 'GET /feed <warm> & "ranked"', rps: 2000, p50Ms: 20, p99Ms: 200 },
    { group: 'all-in-one', label: 'cold page', p50Ms: 50, p99Ms: 2000 },
  ];
  const svg = renderBarChart(rows, { title: 'feed' });

  it('draws throughput bars in proportion to rps and leaves rows without rps out', () => {
    // Throughput bars are the solid ones before the latency panel: 8000 and 2000 on a 10000 axis.
    const solid = widths(svg, false);
    expect(solid.slice(0, 2)).toEqual([264, 66]);
    expect(svg.match(/>GET \/health\/live</g)).toHaveLength(2);
    expect(svg.match(/>cold page</g)).toHaveLength(1);
  });

  it('puts p50 and p99 on one log axis spanning whole decades', () => {
    // 1 ms … 10 s: four decades over 330 px, so 20 ms sits at log10(20)/4 of the width.
    const p99 = widths(svg, true);
    expect(p99).toEqual(
      [(Math.log10(20) / 4) * 330, (Math.log10(200) / 4) * 330, (Math.log10(2000) / 4) * 330].map((w) =>
        Number(w.toFixed(1)),
      ),
    );
    expect(svg).toContain('>p99 2000<');
  });

  it('escapes labels as XML text', () => {
    expect(svg).toContain('GET /feed &lt;warm&gt; &amp; &quot;ranked&quot;');
    expect(svg).not.toContain('<warm>');
  });
});
