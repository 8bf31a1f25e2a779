import { readFileSync } from 'node:fs';

/**
 * Summarises a V8 .cpuprofile (`node --cpu-prof`): the functions with the most
 * self time, and by total (inclusive) time, each as a share of the samples.
 * Usage: node --import tsx bench/profile/cpuprofile-summary.ts <file.cpuprofile> [top=40] [last=<s>]
 * `last=<s>`: only the samples of the last s seconds before the final
 * `skip=<s>` seconds (e.g. the send loop, without start-up and setup).
 * Prints a per-second timeline of busy samples to find the window.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg, ...opts] = process.argv.slice(2);
const opt = (name: string) => {
  const found = opts.find((o) => o.startsWith(`${name}=`));
  return found ? Number(found.split('=')[1]) : undefined;
};
if (!file) throw new Error('usage: cpuprofile-summary <file.cpuprofile> [top]');
const top = Number(topArg ?? 40);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\//, 'nm:')
    .replace(/.*\/(packages|apps)\//, '$1/');
const label = (n: ProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
/** Coarse owner of a frame: a package under node_modules, a workspace package, node internals. */
const owner = (n: ProfileNode) => {
  const url = n.callFrame.url;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `nm:${nm[1]}`;
  const ws = /\/(packages\/(?:services\/)?[^/]+|apps\/[^/]+)\//.exec(url);
  if (ws) return ws[1] as string;
  if (url.startsWith('node:')) return 'node:internals';
  return n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native/other)';
};

const at: number[] = [];
profile.timeDeltas.reduce((t, dt, i) => {
  at[i] = t + dt;
  return t + dt;
}, 0);
const end = at.at(-1) ?? 0;
const last = opt('last');
const skip = opt('skip') ?? 0;
const inWindow = (i: number) =>
  last === undefined || ((at[i] ?? 0) <= end - skip * 1e6 && (at[i] ?? 0) > end - (skip + last) * 1e6);
const busyPerSecond: number[] = [];
profile.samples.forEach((id, i) => {
  const node = byId.get(id);
  if (node?.callFrame.functionName === '(idle)') return;
  const s = Math.floor((at[i] ?? 0) / 1e6);
  busyPerSecond[s] = (busyPerSecond[s] ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000;
});
console.log(`busy ms per second: ${Array.from(busyPerSecond, (v) => Math.round(v ?? 0)).join(' ')}`);

/** Which service spent a sample (the nearest service frame above it), else the nearest kernel area. */
const area = (leaf: number): string => {
  let fallback: string | undefined;
  for (let cur: number | undefined = leaf; cur !== undefined; cur = parent.get(cur)) {
    const url = byId.get(cur)?.callFrame.url ?? '';
    const service = /packages\/services\/([^/]+)\//.exec(url);
    if (service) return `service:${service[1]}`;
    const kernel = /packages\/kernel\/src\/([^/]+)\//.exec(url);
    if (kernel) fallback ??= `kernel:${kernel[1]}`;
    const other = /\/(packages\/[^/]+|apps\/[^/]+)\//.exec(url);
    if (other) fallback ??= other[1] as string;
  }
  return fallback ?? 'outside the workspace';
};
/** Wall time that is not this process's CPU: idle, and syscalls preempted by the peer they woke. */
const notCpu = new Set(['(idle)', 'writev', 'writeBuffer']);
const areas = new Map<string, number>();
const self = new Map<string, number>();
const total = new Map<string, number>();
const owners = new Map<string, number>();
let all = 0;
profile.samples.forEach((id, i) => {
  if (!inWindow(i)) return;
  const dt = profile.timeDeltas[i] ?? 0;
  all += dt;
  const node = byId.get(id);
  if (!node) return;
  self.set(label(node), (self.get(label(node)) ?? 0) + dt);
  owners.set(owner(node), (owners.get(owner(node)) ?? 0) + dt);
  if (!notCpu.has(node.callFrame.functionName)) areas.set(area(id), (areas.get(area(id)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur) as ProfileNode);
    if (seen.has(l)) continue;
    seen.add(l);
    total.set(l, (total.get(l) ?? 0) + dt);
  }
});

const print = (title: string, map: Map<string, number>, n: number) => {
  console.log(`\n## ${title}`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n))
    console.log(
      `${((100 * v) / all).toFixed(1).padStart(5)} %  ${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`,
    );
};
console.log(`samples: ${profile.samples.length}, ${(all / 1000).toFixed(0)} ms`);
print('self time by owner', owners, 30);
print('by the service, else kernel area (without idle, writev, writeBuffer)', areas, 30);
print('self time', self, top);
print('total time', total, top);
