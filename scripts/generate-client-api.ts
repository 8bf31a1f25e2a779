/**
 * `npm run client:generate`: writes Nova's OpenAPI document and the SDK's
 * generated REST types (packages/client). Run after changing a route or
 * schema; test/client/generated-api.test.ts fails while they are stale.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  documentText,
  GENERATED_TYPES,
  generatedTypesText,
  novaOpenApiDocument,
  OPENAPI_JSON,
} from './client-api/openapi-document.js';

const document = await novaOpenApiDocument();
await writeFile(OPENAPI_JSON, documentText(document));
await mkdir(path.dirname(GENERATED_TYPES), { recursive: true });
await writeFile(GENERATED_TYPES, await generatedTypesText(document));
console.log(`wrote ${OPENAPI_JSON} and ${GENERATED_TYPES}`);
