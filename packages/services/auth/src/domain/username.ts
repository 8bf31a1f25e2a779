/**
 * Usernames appear in URLs (/api/v1/users/{username}), so they are ASCII,
 * short, and never one of the words a route already uses.
 */
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 30;
const USERNAME_PATTERN = /^[A-Za-z0-9_]+$/;

/** Lower-case; compared case-insensitively. */
export const RESERVED_USERNAMES: ReadonlySet<string> = new Set([
  'me',
  'suggestions',
  'follow-requests',
  'follow_requests',
  'settings',
  'admin',
  'administrator',
  'root',
  'system',
  'api',
  'auth',
  'login',
  'logout',
  'register',
  'signup',
  'signin',
  'support',
  'help',
  'about',
  'nova',
  'null',
  'undefined',
  'users',
  'user',
  'posts',
  'feed',
  'discover',
  'trending',
  'explore',
  'search',
  'notifications',
  'messages',
  'conversations',
  'streams',
  'live',
  'media',
  'hashtags',
  'events',
  'health',
  'metrics',
  'docs',
  'openapi',
  'well_known',
  'security',
  'privacy',
  'terms',
  'moderator',
  'staff',
  'official',
]);

/** The problem with a username, or null when it is acceptable. */
export function usernameProblem(username: string): string | null {
  if (username.length < USERNAME_MIN || username.length > USERNAME_MAX) {
    return `must be ${USERNAME_MIN} to ${USERNAME_MAX} characters long`;
  }
  if (!USERNAME_PATTERN.test(username)) return 'may contain only letters A-Z, digits and underscores';
  if (RESERVED_USERNAMES.has(username.toLowerCase())) return 'is reserved';
  return null;
}

/** The form uniqueness is decided on. */
export function usernameKey(username: string): string {
  return username.toLowerCase();
}
