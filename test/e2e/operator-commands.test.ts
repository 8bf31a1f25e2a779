import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNovaCommand } from './harness.js';

// Operator commands run as an operator runs them: a process against a data dir.
const dirs: string[] = [];
const freshDataDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nova-ops-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const PRODUCTION_KEYS = {
  AUTH_SIGNING_KEYS: JSON.stringify([{ kty: 'OKP', crv: 'Ed25519', d: 'x', x: 'y' }]),
  AUTH_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};

describe('nova seed', () => {
  it('refuses to run with NOVA_ENV=production and touches nothing', async () => {
    const dataDir = freshDataDir();
    const { code, stderr, stdout } = await runNovaCommand(['seed', '--users=10'], {
      NOVA_ENV: 'production',
      NOVA_DATA_DIR: dataDir,
      ...PRODUCTION_KEYS,
    });
    expect(code).toBe(1);
    expect(stderr).toContain('seed refuses to run with NOVA_ENV=production');
    expect(stdout).not.toContain('seeded');
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('still seeds outside production', async () => {
    const { code, stdout } = await runNovaCommand(['seed', '--users=10', '--follows=20'], {
      NOVA_ENV: 'development',
      NOVA_DATA_DIR: freshDataDir(),
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/seeded 10 accounts, 10 profiles and \d+ follows/);
  });
});
