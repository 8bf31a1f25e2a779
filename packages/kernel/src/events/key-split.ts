/** Key slots of a partition (ADR 039); see key-positions.ts. */
export const KEY_SLOTS = 16;

/**
 * Splits `items` (in log order) into at most `lanes` groups by a hash of
 * their key, each group cut into chunks of at most `maxPerChunk`. Every key
 * lands in exactly one group and keeps its relative order there, so running
 * the groups side by side (and each group's chunks one after the other)
 * keeps per-key order while distinct keys commit in parallel.
 */
export function splitByKey<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  lanes: number,
  maxPerChunk: number,
): T[][][] {
  if (lanes <= 1) return [chunk(items, maxPerChunk)];
  const groups: T[][] = Array.from({ length: lanes }, () => []);
  // Whole key slots per lane (slot mod lanes): a slot's position (ADR 039) is only ever moved by one lane.
  for (const item of items) (groups[(keyHash(keyOf(item)) % KEY_SLOTS) % lanes] as T[]).push(item);
  return groups.filter((g) => g.length > 0).map((g) => chunk(g, maxPerChunk));
}

/**
 * Lanes worth opening for `count` waiting events: one per maxEvents ÷
 * inFlight of them, up to inFlight. A trickle stays in one transaction
 * (splitting it would only multiply commits); a backlog gets every lane.
 */
export function lanesFor(count: number, maxEvents: number, inFlight: number): number {
  const perLane = Math.max(1, Math.ceil(maxEvents / inFlight));
  return Math.max(1, Math.min(inFlight, Math.ceil(count / perLane)));
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let from = 0; from < items.length; from += size) chunks.push(items.slice(from, from + size));
  return chunks;
}

/** FNV-1a over the key's UTF-16 code units: cheap, stable across processes, well spread. */
export function keyHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
