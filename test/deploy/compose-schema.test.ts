import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { DEPLOY, readYaml } from './manifests.js';

/**
 * deploy/compose.yaml against the Compose Specification's JSON schema
 * (deploy/schema/compose-spec.json, vendored from the compose-spec
 * repository, Apache-2.0), and through `docker compose config` where the
 * Docker Compose plugin is installed (it is not on every CI machine).
 */
const schema = JSON.parse(readFileSync(new URL('schema/compose-spec.json', DEPLOY), 'utf8')) as object;
// The file names its draft-07 meta-schema by an https address Ajv does not know; it is draft-07 all the same.
const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false });
(addFormats as unknown as (a: Ajv) => void)(ajv);
const validateCompose = ajv.compile(schema);

const errorsOf = (document: unknown): string[] =>
  validateCompose(document)
    ? []
    : (validateCompose.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

const compose = readYaml(new URL('compose.yaml', DEPLOY));

describe('deploy/compose.yaml', () => {
  it('follows the Compose Specification', () => {
    expect(errorsOf(compose)).toEqual([]);
  });

  it('the schema refuses a broken compose file', () => {
    const broken = structuredClone(compose) as { services: Record<string, Record<string, unknown>> };
    expect(errorsOf(broken)).toEqual([]);
    (broken.services.auth as Record<string, unknown>).restart_policy = 'always'; // not a service key
    expect(errorsOf(broken).join('\n')).toMatch(/additional properties/);
    const wrongType = structuredClone(compose) as { services: Record<string, Record<string, unknown>> };
    (wrongType.services.gateway as Record<string, unknown>).ports = 8080;
    expect(errorsOf(wrongType).join('\n')).toMatch(/ports must be array/);
  });

  const hasDockerCompose = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0;
  it.runIf(hasDockerCompose)('passes `docker compose config` (with deploy/.env.example)', () => {
    const output = execFileSync(
      'docker',
      ['compose', '-f', 'deploy/compose.yaml', '--env-file', 'deploy/.env.example', 'config', '--quiet'],
      { cwd: new URL('..', DEPLOY), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(output).toBe('');
  });
});
