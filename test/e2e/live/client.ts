import { randomUUID } from 'node:crypto';

export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer, checked by the assertions that read it
  body: any;
}

/** A small HTTP client of one Nova process. */
export function httpClient(baseUrl: string) {
  const call = async (method: string, path: string, options: { token?: string; body?: unknown } = {}) => {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // a playlist, not JSON
    }
    return { status: response.status, headers: response.headers, body } as Answer;
  };
  return {
    call,
    /** Registers an account and logs it in; resolves to its id and access token. */
    async account(prefix: string): Promise<{ id: string; token: string; username: string }> {
      const username = `${prefix}_${randomUUID().slice(0, 8)}`;
      const password = 'a live stream password';
      const registered = await call('POST', '/api/v1/auth/register', {
        body: { email: `${username}@example.com`, username, password },
      });
      if (registered.status !== 201)
        throw new Error(`register: ${registered.status} ${JSON.stringify(registered.body)}`);
      const login = await call('POST', '/api/v1/auth/login', { body: { login: username, password } });
      if (login.status !== 200) throw new Error(`login: ${login.status}`);
      return { id: registered.body.user.id, token: login.body.accessToken, username };
    },
  };
}
