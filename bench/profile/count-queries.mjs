// Counts pg queries by statement text (node --import bench/profile/count-queries.mjs): SIGUSR2 resets, SIGUSR1 writes them to $QUERY_COUNT_FILE.
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
const require = createRequire(`${process.cwd()}/package.json`);
const pg = require('pg');
const counts = new Map();
for (const proto of [pg.Client.prototype]) {
  const original = proto.query;
  proto.query = function (config, ...rest) {
    const text = typeof config === 'string' ? config : config?.text;
    if (text) {
      const key = text.replace(/\s+/g, ' ').slice(0, 160);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return original.call(this, config, ...rest);
  };
}
process.on('SIGUSR2', () => counts.clear());
process.on('SIGUSR1', () => {
  const rows = [...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v}\t${k}`);
  writeFileSync(process.env.QUERY_COUNT_FILE ?? '/tmp/query-counts.txt', rows.join('\n'));
});
