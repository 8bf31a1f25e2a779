import type { components } from '../generated/nova-api.js';

/** An error body of Nova's API (`application/problem+json`, RFC 9457). */
export type Problem = components['schemas']['Problem'];

/**
 * A request Nova refused: the status and the problem's stable `code`
 * (`email_taken`, `missing_devices`, `blocked`, …). Branch on `code`, not on
 * the message; extra problem members (e.g. `missingDevices`) are on `problem`.
 */
export class NovaApiError extends Error {
  override readonly name = 'NovaApiError';
  readonly status: number;
  readonly code: string;
  readonly problem: Problem;

  constructor(status: number, problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.status = status;
    this.code = problem.code;
    this.problem = problem;
  }

  /** The error of a non-2xx answer whose body is a problem, or a synthetic one when it is not. */
  static from(response: Response, body: unknown): NovaApiError {
    if (isProblem(body)) return new NovaApiError(response.status, body);
    return new NovaApiError(response.status, {
      type: 'about:blank',
      title: response.statusText || `HTTP ${response.status}`,
      status: response.status,
      code: `http_${response.status}`,
      ...(typeof body === 'string' && body.length > 0 ? { detail: body.slice(0, 200) } : {}),
    });
  }
}

function isProblem(body: unknown): body is Problem {
  if (typeof body !== 'object' || body === null) return false;
  const { title, status, code } = body as Record<string, unknown>;
  return typeof title === 'string' && typeof status === 'number' && typeof code === 'string';
}
