/** The pair POST /auth/login and /auth/refresh answer. */
export interface SessionTokens {
  accessToken: string;
  refreshToken: string;
}

/**
 * Holds the session's tokens and refreshes them once for all callers: two
 * requests that meet a 401 at the same time share one POST /auth/refresh
 * (a second use of a rotated refresh token would revoke the session).
 */
export class TokenKeeper {
  private tokens: SessionTokens | undefined;
  private refreshing: Promise<SessionTokens | undefined> | undefined;

  constructor(
    initial: SessionTokens | undefined,
    private readonly onChange: ((tokens: SessionTokens | undefined) => void) | undefined,
  ) {
    this.tokens = initial;
  }

  get current(): SessionTokens | undefined {
    return this.tokens;
  }

  set(tokens: SessionTokens | undefined): void {
    this.tokens = tokens;
    this.onChange?.(tokens);
  }

  /**
   * Refreshes with `exchange` unless another caller already did since
   * `seenAccessToken` was used; resolves to the new pair, or undefined when
   * the session cannot be refreshed (then the tokens are cleared).
   */
  refresh(
    seenAccessToken: string | undefined,
    exchange: (refreshToken: string) => Promise<SessionTokens | undefined>,
  ): Promise<SessionTokens | undefined> {
    if (this.tokens && this.tokens.accessToken !== seenAccessToken) return Promise.resolve(this.tokens);
    if (!this.refreshing) {
      const refreshToken = this.tokens?.refreshToken;
      this.refreshing = (async () => {
        try {
          const next = refreshToken ? await exchange(refreshToken) : undefined;
          this.set(next);
          return next;
        } finally {
          this.refreshing = undefined;
        }
      })();
    }
    return this.refreshing;
  }
}
