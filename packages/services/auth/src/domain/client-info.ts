import { hasControlCharacters, isWellFormedUnicode } from './text.js';

/** Who is opening a session, as recorded on it and shown in GET /sessions. */
export interface ClientInfo {
  userAgent: string | null;
  ip: string | null;
}

const USER_AGENT_MAX = 512;

/** Headers are client-controlled: keep what is printable and bounded. */
export function clientInfo(userAgent: string | undefined, ip: string | undefined): ClientInfo {
  let agent: string | null = null;
  if (userAgent && isWellFormedUnicode(userAgent) && !hasControlCharacters(userAgent)) {
    agent = userAgent.slice(0, USER_AGENT_MAX);
  }
  return { userAgent: agent, ip: ip ?? null };
}
