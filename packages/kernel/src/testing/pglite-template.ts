import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';

let template: Promise<Blob> | undefined;

/**
 * A freshly initialised PGlite data directory as a tarball, cached on disk
 * per PGlite version: initdb costs ~6 s, loading the tarball ~1.5 s, which
 * is the difference between a fast and a slow suite.
 */
export function pgliteTemplate(): Promise<Blob> {
  template ??= loadOrCreate();
  return template;
}

async function loadOrCreate(): Promise<Blob> {
  const dir = path.join(os.tmpdir(), 'nova-test');
  const file = path.join(dir, `pglite-template-${pgliteVersion()}.tar`);
  try {
    return new Blob([await readFile(file)]);
  } catch {
    const pglite = await PGlite.create();
    const dump = await pglite.dumpDataDir('none');
    await pglite.close();
    await mkdir(dir, { recursive: true });
    // Written then renamed so a parallel test file never reads half a tarball.
    const partial = `${file}.${process.pid}.${Date.now()}`;
    await writeFile(partial, new Uint8Array(await dump.arrayBuffer()));
    await rename(partial, file);
    return dump;
  }
}

function pgliteVersion(): string {
  // The package does not export its manifest; find it next to the entry point.
  let dir = path.dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (dir !== path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === '@electric-sql/pglite' && manifest.version) return manifest.version;
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}
