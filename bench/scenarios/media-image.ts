import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { processImage } from '../../packages/services/content/src/media/processing/image-pipeline.js';
import { type BenchReport, machine, median } from '../lib/report.js';

const ROUNDS = 5;
const PER_ROUND = 3;

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
};

/**
 * The image worker's pipeline alone (what one media item costs the worker):
 * a 12-megapixel JPEG (4000×3000, camera-like noise, EXIF orientation 6) →
 * decode once, auto-orient, thumbnail/small/large WebP and a blurhash, as
 * the processor runs it (one libvips thread). Images per second per round,
 * per-image latency, and the peak RSS of this process (the worker) sampled
 * every 10 ms. AVIF for the large variant is measured beside WebP: time and
 * bytes, to decide whether it pays for itself.
 */
export async function runMediaImageBench(): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nova-bench-media-'));
  const file = path.join(dir, '12mp.jpg');
  await sharp({
    create: {
      width: 4000,
      height: 3000,
      channels: 3,
      background: '#6a8cb0',
      noise: { type: 'gaussian', mean: 120, sigma: 40 },
    },
  })
    .jpeg({ quality: 90 })
    .withMetadata({ orientation: 6 })
    .toFile(file);
  const sourceBytes = (await fs.stat(file)).size;
  let peakRss = process.memoryUsage().rss;
  const baseRss = peakRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 10);
  await processImage(file, { maxPixels: 50_000_000 }); // warm-up
  const rps: number[] = [];
  const p50: number[] = [];
  const p99: number[] = [];
  const sizes: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round++) {
    const times: number[] = [];
    const started = performance.now();
    for (let i = 0; i < PER_ROUND; i++) {
      const t = performance.now();
      const result = await processImage(file, { maxPixels: 50_000_000 });
      times.push(performance.now() - t);
      for (const v of result.variants) sizes[v.name] = v.bytes.length;
    }
    rps.push((PER_ROUND * 1000) / (performance.now() - started));
    p50.push(median(times));
    p99.push(quantile(times, 0.99));
  }
  clearInterval(sampler);
  // WebP vs AVIF for the large variant, from the same pixels.
  const large = sharp(file, { autoOrient: true }).resize(1600, 1600, { fit: 'inside' });
  const timed = async (encode: (s: Sharp) => Sharp) => {
    const t = performance.now();
    const out = await encode(large.clone()).toBuffer();
    return { ms: performance.now() - t, bytes: out.length };
  };
  const webp = await timed((s) => s.webp({ quality: 80, effort: 3 }));
  const avif = await timed((s) => s.avif({ quality: 50, effort: 3 }));
  await fs.rm(dir, { recursive: true, force: true });
  return {
    scenario: 'media-image',
    startedAt,
    machine: machine(),
    method: `processImage (packages/services/content/src/media/processing/image-pipeline.ts) on one 4000×3000 JPEG (${sourceBytes} bytes, orientation 6), ${ROUNDS} rounds of ${PER_ROUND} images after a warm-up, sequential, sharp.concurrency(1). "rps" = images per second; p50/p99 = ms per image. Machine shared with other work: figures are indicative.`,
    series: [{ name: '12 MP JPEG → thumbnail/small/large WebP + blurhash', rps, p50Ms: p50, p99Ms: p99 }],
    figures: {
      'images per second (median)': Number(median(rps).toFixed(2)),
      'peak worker RSS MB': Math.round(peakRss / 1e6),
      'RSS before the pipeline MB': Math.round(baseRss / 1e6),
      'thumbnail bytes': sizes.thumbnail ?? 0,
      'small bytes': sizes.small ?? 0,
      'large bytes': sizes.large ?? 0,
      'large WebP ms / bytes': `${webp.ms.toFixed(0)} / ${webp.bytes}`,
      'large AVIF ms / bytes': `${avif.ms.toFixed(0)} / ${avif.bytes}`,
    },
  };
}
