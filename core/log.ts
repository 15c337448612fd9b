import { createRequire } from 'node:module';
import { type DestinationStream, destination, pino, type Logger } from 'pino';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

/**
 * JSON lines for machines (pipes, files, log shippers); one readable line per
 * event for a person at a terminal. STRANGLER_LOG_FORMAT=json|pretty overrides
 * the guess (e.g. pretty in a terminal multiplexer that hides the TTY).
 */
export function logFormat(
  env: NodeJS.ProcessEnv = process.env,
  isTTY = Boolean(process.stderr.isTTY),
): LogFormat {
  const asked = env.STRANGLER_LOG_FORMAT;
  if (asked === 'json' || asked === 'pretty') return asked;
  return isTTY ? 'pretty' : 'json';
}

/**
 * The process logger on stderr (stdout belongs to command output); level from
 * STRANGLER_LOG_LEVEL, default 'info', 'silent' in tests unless set.
 */
export function createLogger(name = 'strangler', level?: string): Logger {
  const fallback = process.env.VITEST ? 'silent' : 'info';
  return pino(
    { name, level: level || process.env.STRANGLER_LOG_LEVEL || fallback },
    logDestination(logFormat()),
  );
}

/**
 * pino's own pretty printer, pino-pretty, used as a stream in this thread
 * (its documented "usage as a stream") rather than as a worker-thread
 * transport: a CLI that fails at start must not lose its last lines to a
 * worker that had no time to flush. Loaded only when pretty is asked for, so
 * JSON logging and `strangler --help` never pay for it. Colours only on a
 * terminal, and never with NO_COLOR (https://no-color.org).
 */
function logDestination(format: LogFormat): DestinationStream {
  if (format === 'json') return destination(2);
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pretty({
    destination: 2,
    sync: true,
    singleLine: true,
    colorize: Boolean(process.stderr.isTTY) && !process.env.NO_COLOR,
    ignore: 'pid,hostname',
    translateTime: 'SYS:HH:MM:ss.l',
  });
}
