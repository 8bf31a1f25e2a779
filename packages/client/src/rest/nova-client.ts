/**
 * The typed REST client: openapi-fetch over the types generated from
 * Nova's OpenAPI document (src/generated), with the session's bearer token
 * on every request, one shared refresh on a 401, and problem+json answers
 * thrown as NovaApiError. `api` is the whole typed API; the methods below
 * are the calls the SDK's own layers make.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from '../generated/nova-api.js';
import { NovaApiError } from './errors.js';
import { type SessionTokens, TokenKeeper } from './session-tokens.js';

export type { paths } from '../generated/nova-api.js';

export interface NovaClientOptions {
  /** Nova's origin, e.g. `http://localhost:8080` (paths carry /api/v1). */
  baseUrl: string;
  /** A session to resume (tokens kept from an earlier login). */
  tokens?: SessionTokens;
  /** Called whenever the tokens change (login, refresh, logout, a refused refresh): persist them here. */
  onTokensChanged?: (tokens: SessionTokens | undefined) => void;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** A request not answered within this is aborted with a TimeoutError (default 30 s; 0 = never). */
  requestTimeoutMs?: number;
}

/** Paths that never carry the bearer token nor trigger a refresh. */
const SESSIONLESS = new Set(['/api/v1/auth/login', '/api/v1/auth/login/2fa', '/api/v1/auth/refresh']);

/**
 * API.md's default page size. The OpenAPI document marks `limit` required
 * (a TypeBox property with a default), so the SDK always sends it.
 */
const DEFAULT_PAGE = 20;

type Answer<T> = { data?: T; error?: unknown; response: Response };

/** The data of a 2xx answer, or the answer's problem as a NovaApiError. */
export function unwrap<T>(answer: Answer<T>): T {
  if (answer.response.ok) return answer.data as T;
  throw NovaApiError.from(answer.response, answer.error);
}

export class NovaClient {
  /** Every path of Nova's API, typed from the generated OpenAPI types. */
  readonly api: Client<paths>;
  readonly baseUrl: string;
  private readonly tokens: TokenKeeper;
  private readonly fetchImpl: typeof fetch;
  private readonly requestTimeoutMs: number;

  constructor(options: NovaClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/$/, '');
    this.tokens = new TokenKeeper(options.tokens, options.onTokensChanged);
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.api = createClient<paths>({ baseUrl: this.baseUrl, fetch: (request) => this.send(request) });
  }

  /** The current tokens (undefined when logged out). */
  get session(): SessionTokens | undefined {
    return this.tokens.current;
  }

  /** A valid access token, for the realtime socket (refreshed first when `stale` was refused). */
  async accessToken(stale?: string): Promise<string | undefined> {
    const current = this.tokens.current?.accessToken;
    if (stale === undefined || current !== stale) return current;
    return (await this.tokens.refresh(stale, (refreshToken) => this.exchange(refreshToken)))?.accessToken;
  }

  /** One attempt, bounded by the request timeout (a server that stops answering must not hang the app). */
  private attempt(request: Request): Promise<Response> {
    if (this.requestTimeoutMs <= 0) return this.fetchImpl(request);
    return this.fetchImpl(request, {
      signal: AbortSignal.any([request.signal, AbortSignal.timeout(this.requestTimeoutMs)]),
    });
  }

  private async send(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (SESSIONLESS.has(path)) return this.attempt(request);
    const token = this.tokens.current?.accessToken;
    // The body can be read once: keep a copy for the retry after a refresh.
    const retry = token ? request.clone() : undefined;
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    const response = await this.attempt(request);
    if (response.status !== 401 || !retry) return response;
    const renewed = await this.tokens.refresh(token, (refreshToken) => this.exchange(refreshToken));
    if (!renewed) return response;
    retry.headers.set('authorization', `Bearer ${renewed.accessToken}`);
    return this.attempt(retry);
  }

  /** POST /auth/refresh; undefined when the refresh token is refused (the session is over). */
  private async exchange(refreshToken: string): Promise<SessionTokens | undefined> {
    const answer = await this.api.POST('/api/v1/auth/refresh', { body: { refreshToken } });
    if (answer.response.status === 401) return undefined;
    const { accessToken, refreshToken: next } = unwrap(answer);
    return { accessToken, refreshToken: next };
  }

  // --- auth -------------------------------------------------------------

  async register(body: { email: string; username: string; password: string }) {
    return unwrap(await this.api.POST('/api/v1/auth/register', { body })).user;
  }

  /** Logs in and keeps the tokens; an account with 2FA answers `{twoFactorRequired, challengeId}` instead. */
  async login(login: string, password: string) {
    const answer = unwrap(await this.api.POST('/api/v1/auth/login', { body: { login, password } }));
    if ('accessToken' in answer)
      this.tokens.set({ accessToken: answer.accessToken, refreshToken: answer.refreshToken });
    return answer;
  }

  async loginWithCode(challengeId: string, code: string) {
    const answer = unwrap(await this.api.POST('/api/v1/auth/login/2fa', { body: { challengeId, code } }));
    this.tokens.set({ accessToken: answer.accessToken, refreshToken: answer.refreshToken });
    return answer;
  }

  /** Rotates the tokens now (they are also refreshed on their own when a request meets a 401). */
  async refresh(): Promise<SessionTokens> {
    const renewed = await this.tokens.refresh(this.tokens.current?.accessToken, (refreshToken) =>
      this.exchange(refreshToken),
    );
    if (!renewed) {
      throw new NovaApiError(401, {
        type: 'urn:nova:problem:invalid_token',
        title: 'The session cannot be refreshed',
        status: 401,
        code: 'invalid_token',
      });
    }
    return renewed;
  }

  async logout(): Promise<void> {
    unwrap(await this.api.POST('/api/v1/auth/logout'));
    this.tokens.set(undefined);
  }

  async me() {
    return unwrap(await this.api.GET('/api/v1/users/me'));
  }

  // --- key directory ----------------------------------------------------

  async publishKeys(body: {
    deviceId: string;
    identityKey: string;
    signedPreKey: string;
    oneTimePreKeys: string[];
  }): Promise<void> {
    unwrap(await this.api.PUT('/api/v1/keys', { body }));
  }

  /** The caller's devices with the one-time pre-keys each has left. */
  async ownDevices() {
    return unwrap(await this.api.GET('/api/v1/keys')).devices;
  }

  /** One bundle per device of `userId`, each claiming one of its one-time pre-keys. */
  async claimKeyBundles(userId: string) {
    return unwrap(await this.api.GET('/api/v1/users/{id}/keys', { params: { path: { id: userId } } }))
      .devices;
  }

  // --- conversations and messages ---------------------------------------

  /** A direct conversation (one other member; the existing one when the pair has one) or a group. */
  async createConversation(memberIds: string[], kind?: 'direct' | 'group') {
    return unwrap(
      await this.api.POST('/api/v1/conversations', { body: { memberIds, ...(kind ? { kind } : {}) } }),
    );
  }

  async conversation(id: string) {
    return unwrap(await this.api.GET('/api/v1/conversations/{id}', { params: { path: { id } } }));
  }

  /** One page of the caller's conversations, newest activity first. */
  async conversations(page: { limit?: number; cursor?: string } = {}) {
    const query = { ...page, limit: page.limit ?? DEFAULT_PAGE };
    return unwrap(await this.api.GET('/api/v1/conversations', { params: { query } }));
  }

  async addMembers(conversationId: string, userIds: string[]) {
    return unwrap(
      await this.api.POST('/api/v1/conversations/{id}/members', {
        params: { path: { id: conversationId } },
        body: { userIds },
      }),
    );
  }

  /** Leave a group (userId = the caller), or — as its creator — remove a member. */
  async removeMember(conversationId: string, userId: string): Promise<void> {
    unwrap(
      await this.api.DELETE('/api/v1/conversations/{id}/members/{userId}', {
        params: { path: { id: conversationId, userId } },
      }),
    );
  }

  /** Sends envelopes as they are (the Messenger encrypts and fans out; use it to send text). */
  async sendEnvelopes(
    conversationId: string,
    body: {
      clientMessageId: string;
      senderDeviceId?: string;
      envelopes: { deviceId: string; userId?: string; ciphertext: string }[];
    },
  ) {
    return unwrap(
      await this.api.POST('/api/v1/conversations/{id}/messages', {
        params: { path: { id: conversationId } },
        body,
      }),
    );
  }

  /** One page of a device's messages; `after` resumes past a sequence (and acknowledges delivery up to it). */
  async deviceMessages(
    conversationId: string,
    query: { deviceId: string; after?: number; cursor?: string; limit?: number },
  ) {
    return unwrap(
      await this.api.GET('/api/v1/conversations/{id}/messages', {
        params: { path: { id: conversationId }, query: { ...query, limit: query.limit ?? DEFAULT_PAGE } },
      }),
    );
  }

  async markRead(conversationId: string, upTo: number): Promise<void> {
    unwrap(
      await this.api.POST('/api/v1/conversations/{id}/read', {
        params: { path: { id: conversationId } },
        body: { upTo },
      }),
    );
  }
}
