// `npm run bench -- <scenario>`: runs one scenario and writes its report to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchReport } from './lib/report.js';
import { renderMarkdown } from './lib/report.js';

const scenarios: Record<string, () => Promise<BenchReport>> = {
  auth: async () => (await import('./scenarios/auth.js')).runAuthBench(),
  social: async () => (await import('./scenarios/social.js')).runSocialBench(),
  content: async () => (await import('./scenarios/content.js')).runContentBench(),
  feed: async () => (await import('./scenarios/feed.js')).runFeedBench(),
  'media-image': async () => (await import('./scenarios/media-image.js')).runMediaImageBench(),
  events: async () => (await import('./scenarios/events.js')).runEventsBench(),
  seed: async () => (await import('./scenarios/seed.js')).runSeedBench(),
  analytics: async () => (await import('./scenarios/analytics.js')).runAnalyticsBench(),
  messaging: async () => (await import('./scenarios/messaging.js')).runMessagingBench(),
  notifications: async () => (await import('./scenarios/notifications.js')).runNotificationsBench(),
  live: async () => (await import('./scenarios/live.js')).runLiveBench(),
  gateway: async () => (await import('./scenarios/gateway.js')).runGatewayBench(),
  'outbox-writers': async () => (await import('./scenarios/outbox-writers.js')).runOutboxWritersBench(),
};

const name = process.argv[2];
const run = name ? scenarios[name] : undefined;
if (!run) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(scenarios).join('|')}>\n`);
  process.exit(2);
}
const report = await run();
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(dir, { recursive: true });
const stamp = report.startedAt.replace(/[:.]/g, '-');
writeFileSync(path.join(dir, `${name}-${stamp}.json`), `${JSON.stringify(report, null, 2)}\n`);
const markdown = renderMarkdown(report);
writeFileSync(path.join(dir, `${name}-latest.md`), markdown);
process.stdout.write(markdown);
process.exit(0);
