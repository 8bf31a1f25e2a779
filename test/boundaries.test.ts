import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const depcruise = path.join(root, 'node_modules/.bin/depcruise');
const rules = path.join(root, '.dependency-cruiser.cjs');

async function cruise(cwd: string, targets: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout } = await run(depcruise, ['--config', rules, '--output-type', 'err', ...targets], { cwd });
    return { code: 0, output: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, output: `${e.stdout}${e.stderr}` };
  }
}

describe('module boundaries', () => {
  it('rejects a service importing another service or an adapter, the kernel importing a service, an adapter importing a service', async () => {
    const { code, output } = await cruise(path.join(root, 'test/fixtures/boundary'), ['packages']);
    expect(code).not.toBe(0);
    expect(output).toContain('no-service-imports-another-service');
    expect(output).toContain('packages/services/alpha/src/uses-beta.ts');
    expect(output).toContain('kernel-is-the-foundation');
    expect(output).toContain('adapters-are-wired-by-the-app');
    expect(output).toContain('packages/services/beta/src/uses-adapter.ts');
    expect(output).toContain('an-adapter-stands-alone');
    expect(output).toContain('packages/adapters/engine/src/engine.ts');
  });

  it('passes on the real code base', async () => {
    const { code, output } = await cruise(root, ['packages', 'apps']);
    expect(output).not.toContain('error');
    expect(code).toBe(0);
  });
});
