import type { Logger } from '@nova/kernel';

type Document = Record<string, unknown>;
type Section = Record<string, unknown>;

export interface MergedOpenApi {
  /** The latest merge (the services that answered so far); never blocks. */
  current(): Document;
  /** Fetches every upstream's document again and merges what answered. */
  refresh(): Promise<void>;
  stop(): void;
}

const FETCH_TIMEOUT_MS = 3000;
// Until every service has answered, look again soon; then now and then (a redeploy may change routes).
const RETRY_MS = 5000;
const REFRESH_MS = 5 * 60_000;

/**
 * The public OpenAPI document behind the gateway: each service process
 * documents its own routes at /openapi.json; the gateway merges their paths,
 * schemas and tags into one (a schema shared by name, like Problem, is the
 * same everywhere). Refreshed in the background, so /openapi.json never
 * waits on an upstream.
 */
export function createMergedOpenApi(urls: readonly string[], logger: Logger): MergedOpenApi {
  const documents = new Map<string, Document>();
  let merged: Document = merge([]);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const fetchOne = async (url: string) => {
    try {
      const response = await fetch(new URL('/openapi.json', url), {
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
      });
      if (response.status !== 200) throw new Error(`answered ${response.status}`);
      documents.set(url, (await response.json()) as Document);
    } catch (error) {
      logger.debug({ err: error, upstream: url }, 'upstream OpenAPI document not available yet');
    }
  };
  const refresh = async () => {
    await Promise.all(urls.map(fetchOne));
    merged = merge(
      urls.flatMap((url): Document[] => {
        const document = documents.get(url);
        return document ? [document] : [];
      }),
    );
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(
      () => void refresh().finally(schedule),
      documents.size < urls.length ? RETRY_MS : REFRESH_MS,
    );
    timer.unref();
  };
  void refresh().finally(schedule);
  return {
    current: () => merged,
    refresh,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

function merge(documents: readonly Document[]): Document {
  const paths: Section = {};
  const schemas: Section = {};
  const securitySchemes: Section = {};
  const tags = new Map<string, unknown>();
  for (const document of documents) {
    Object.assign(paths, document.paths as Section | undefined);
    const components = (document.components ?? {}) as Record<string, Section | undefined>;
    Object.assign(schemas, components.schemas);
    Object.assign(securitySchemes, components.securitySchemes);
    for (const tag of (document.tags ?? []) as { name: string }[]) tags.set(tag.name, tag);
  }
  const first = documents[0] ?? {};
  const sortedPaths = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: first.openapi ?? '3.1.0',
    info: first.info ?? { title: 'Nova API', version: '1' },
    ...(tags.size > 0 ? { tags: [...tags.values()] } : {}),
    components: { schemas, securitySchemes },
    paths: sortedPaths,
  };
}
