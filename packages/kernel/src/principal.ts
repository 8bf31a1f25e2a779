/** The authenticated caller, established once at the edge and handed to handlers. */
export interface Principal {
  userId: string;
  /** The session (refresh-token family) the access token belongs to. */
  sessionId: string;
  /** The access token's jti: the unit of revocation on logout. */
  tokenId: string;
  /** Epoch seconds when the access token expires. */
  expiresAt: number;
}

/** Verifies an access token (signature, expiry, revocation); throws UnauthenticatedError. */
export type TokenVerifier = (token: string) => Promise<Principal>;
