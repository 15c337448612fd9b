/**
 * One registry of typed errors with stable codes (STRANGLER_E_*), in the manner
 * of undici's lib/core/errors.js and fastify's lib/errors.js. Every code is
 * documented in docs/errors.md and pinned by test/core/errors.test.ts, so a
 * code never silently changes meaning.
 */

export const ERROR_CODES = {
  STRANGLER_E_CONFIG: { status: 500, exit: 2, message: 'invalid configuration' },
  STRANGLER_E_USAGE: { status: 400, exit: 2, message: 'invalid command-line usage' },
  STRANGLER_E_UNKNOWN_ROUTE: { status: 404, exit: 2, message: 'no such route' },
  STRANGLER_E_INVALID_FLIP: { status: 400, exit: 2, message: 'invalid flip' },
  STRANGLER_E_STALE_VERSION: { status: 409, exit: 3, message: 'route version changed' },
  STRANGLER_E_GATE_REFUSED: { status: 409, exit: 4, message: 'gate refused the flip' },
  STRANGLER_E_APPLY_REFUSED: {
    status: 409,
    exit: 4,
    message: 'the config change would move live traffic; nothing changed',
  },
  STRANGLER_E_STORE: { status: 503, exit: 5, message: 'store unavailable' },
  STRANGLER_E_STORE_LOST: {
    status: 503,
    exit: 5,
    message: 'the store lost its state (or was never initialised); nothing changed',
  },
  STRANGLER_E_PROXIES_LIVE: {
    status: 409,
    exit: 5,
    message: 'live proxies serve from this store; stop them first or pass --force',
  },
  STRANGLER_E_STORE_MISSING: {
    status: 503,
    exit: 5,
    message: 'no store file: not created yet (run strangler serve or strangler seed), or removed since',
  },
  STRANGLER_E_UNAUTHORIZED: { status: 401, exit: 2, message: 'missing or wrong admin token' },
  STRANGLER_E_ADMIN_DISABLED: {
    status: 403,
    exit: 2,
    message: 'admin mutations are disabled: no token configured',
  },
  STRANGLER_E_BAD_REQUEST: { status: 400, exit: 2, message: 'malformed request' },
  STRANGLER_E_METHOD_NOT_ALLOWED: { status: 405, exit: 2, message: 'method not allowed here' },
  STRANGLER_E_REQUEST_TIMEOUT: {
    status: 408,
    exit: 1,
    message: 'the client sent its request body too slowly',
  },
  STRANGLER_E_NOT_IMPLEMENTED: { status: 501, exit: 1, message: 'request framing not supported' },
  STRANGLER_E_HTTP_VERSION: { status: 505, exit: 1, message: 'HTTP version not supported' },
  STRANGLER_E_NOT_FOUND: { status: 404, exit: 2, message: 'no such endpoint' },
  STRANGLER_E_INTERNAL: { status: 500, exit: 1, message: 'internal error' },
  STRANGLER_E_UPSTREAM_REFUSED: { status: 502, exit: 1, message: 'upstream refused the connection' },
  STRANGLER_E_UPSTREAM_RESET: { status: 502, exit: 1, message: 'upstream reset the connection' },
  STRANGLER_E_UPSTREAM_TIMEOUT: { status: 504, exit: 1, message: 'upstream timed out' },
  STRANGLER_E_UPSTREAM: { status: 502, exit: 1, message: 'upstream failed' },
  STRANGLER_E_UNSAFE_RETRY: {
    status: 502,
    exit: 1,
    message: 'service failed after the request was sent; not resent',
  },
  STRANGLER_E_PLANNER_INPUT: { status: 400, exit: 2, message: 'planner input unreadable' },
  STRANGLER_E_TARGET_UNREACHABLE: { status: 502, exit: 1, message: 'load-test target not reachable' },
  STRANGLER_E_POINTS_UNAUTHORIZED: {
    status: 401,
    exit: 2,
    message: 'missing or wrong extraction-points token',
  },
  STRANGLER_E_POINTS_NO_TOKEN: {
    status: 503,
    exit: 2,
    message: 'extraction points are in canary or service mode but this proxy has no points token',
  },
  STRANGLER_E_POINTS_DISABLED: {
    status: 403,
    exit: 2,
    message: 'extraction-point endpoints are disabled: no token configured',
  },
  STRANGLER_E_POINT_FALLBACK: {
    status: 503,
    exit: 1,
    message: 'the service did not answer: run the local function',
  },
  STRANGLER_E_PAYLOAD_TOO_LARGE: { status: 413, exit: 2, message: 'request body too large' },
  STRANGLER_E_RATE_LIMITED: { status: 429, exit: 1, message: "over the route's rate limit" },
  STRANGLER_E_ROLLOUT_STATE: {
    status: 409,
    exit: 2,
    message: 'the canary rollout is not in a state that allows this',
  },
  STRANGLER_E_LISTEN: { status: 500, exit: 2, message: 'cannot listen on the given address' },
  STRANGLER_E_NO_LOADTEST: { status: 404, exit: 2, message: 'no saved load test for this route' },
  STRANGLER_E_REPLAY_FILE: { status: 400, exit: 2, message: 'replay case file unreadable' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class StranglerError extends Error {
  readonly code: ErrorCode;
  /** HTTP status the admin API / proxy answers with for this error. */
  readonly status: number;
  /** Process exit code the CLI returns for this error. */
  readonly exitCode: number;
  /** Structured extra data (bad field path, measured evidence...). */
  readonly details?: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message ?? ERROR_CODES[code].message, { cause: options?.cause });
    this.name = 'StranglerError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.exitCode = ERROR_CODES[code].exit;
    this.details = options?.details;
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) };
  }
}

export function isStranglerError(err: unknown, code?: ErrorCode): err is StranglerError {
  return err instanceof StranglerError && (code === undefined || err.code === code);
}

/**
 * The one message for a route id nobody knows: it names the known routes, so
 * a typo is fixed from the message alone (every command says it the same way).
 */
export function unknownRouteError(route: string, known: Iterable<string>, where = ''): StranglerError {
  const ids = [...new Set(known)].sort();
  const list = ids.length ? `known routes: ${ids.join(', ')}` : 'no routes are configured yet';
  return new StranglerError(
    'STRANGLER_E_UNKNOWN_ROUTE',
    `route: no route "${route}"${where ? ` ${where}` : ''}; ${list}`,
    {
      details: { field: 'route', value: route, known: ids },
    },
  );
}
