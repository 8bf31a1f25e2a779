/**
 * `npm run client:generate`: writes Nova's OpenAPI document and the SDK's
 * generated REST types (packages/client), and the gateway's tables of which
 * service serves each route and owns each realtime channel (packages/gateway). Run after changing a route or
 * schema; test/client/generated-api.test.ts fails while they are stale.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  documentText,
  GATEWAY_CHANNELS_JSON,
  GATEWAY_ROUTES_JSON,
  GENERATED_TYPES,
  generatedTypesText,
  novaApiSurface,
  OPENAPI_JSON,
} from './client-api/openapi-document.js';

const { document, routes, channels } = await novaApiSurface();
await writeFile(OPENAPI_JSON, documentText(document));
await mkdir(path.dirname(GATEWAY_ROUTES_JSON), { recursive: true });
await writeFile(GATEWAY_ROUTES_JSON, documentText(routes));
await writeFile(GATEWAY_CHANNELS_JSON, documentText(channels));
await mkdir(path.dirname(GENERATED_TYPES), { recursive: true });
await writeFile(GENERATED_TYPES, await generatedTypesText(document));
console.log(`wrote ${OPENAPI_JSON}, ${GENERATED_TYPES}, ${GATEWAY_ROUTES_JSON} and ${GATEWAY_CHANNELS_JSON}`);
