import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { OPENAPI_JSON } from '../../scripts/client-api/openapi-document.js';

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema: { default?: unknown; maximum?: number };
}
type Document = { paths: Record<string, Record<string, { parameters?: Parameter[] }>> };

/**
 * The committed document is the one the all-in-one app serves (the
 * generated-api test fails otherwise), so its query parameters are checked
 * here without booting every module again.
 */
describe('query parameters in the published OpenAPI document', async () => {
  const document = JSON.parse(await readFile(OPENAPI_JSON, 'utf8')) as Document;
  const queryParameters = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.entries(operations).flatMap(([method, operation]) =>
      (operation.parameters ?? [])
        .filter((p) => p.in === 'query')
        .map((p) => ({ route: `${method.toUpperCase()} ${path}`, ...p })),
    ),
  );

  it('never requires one that has a default (the server fills it in)', () => {
    const required = queryParameters.filter((p) => p.required && p.schema.default !== undefined);
    expect(required.map((p) => `${p.route} ${p.name}`)).toEqual([]);
  });

  it('gives every paged route an optional limit of 20 by default and 100 at most (API.md)', () => {
    const limits = queryParameters.filter((p) => p.name === 'limit');
    expect(limits.length).toBeGreaterThanOrEqual(10);
    for (const limit of limits)
      expect({ route: limit.route, required: limit.required, ...limit.schema }).toMatchObject({
        route: limit.route,
        required: false,
        default: 20,
        maximum: 100,
      });
  });
});
