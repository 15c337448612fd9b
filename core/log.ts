import { destination, pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process logger. JSON lines on stderr (stdout belongs to command output);
 * level from STRANGLER_LOG_LEVEL, default 'info', 'silent' in tests unless set.
 */
export function createLogger(name = 'strangler', level?: string): Logger {
  const fallback = process.env.VITEST ? 'silent' : 'info';
  return pino({ name, level: level ?? process.env.STRANGLER_LOG_LEVEL ?? fallback }, destination(2));
}
