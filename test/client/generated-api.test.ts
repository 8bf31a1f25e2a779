import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  documentText,
  GATEWAY_CHANNELS_JSON,
  GATEWAY_ROUTES_JSON,
  GENERATED_TYPES,
  generatedTypesText,
  novaApiSurface,
  OPENAPI_JSON,
} from '../../scripts/client-api/openapi-document.js';

/**
 * The SDK's REST types are generated, never edited: this fails as soon as a
 * route or schema changes without `npm run client:generate`.
 */
describe('the client SDK’s generated REST types and the gateway’s route and channel tables', () => {
  it('match the OpenAPI document the all-in-one app serves now', async () => {
    const { document, routes, channels } = await novaApiSurface();
    const stale = 'stale: run `npm run client:generate` and commit packages/client and packages/gateway';
    expect(await readFile(OPENAPI_JSON, 'utf8'), stale).toBe(documentText(document));
    expect(await readFile(GATEWAY_ROUTES_JSON, 'utf8'), stale).toBe(documentText(routes));
    expect(await readFile(GATEWAY_CHANNELS_JSON, 'utf8'), stale).toBe(documentText(channels));
    expect(await readFile(GENERATED_TYPES, 'utf8'), stale).toBe(await generatedTypesText(document));
  });
});
