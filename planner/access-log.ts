/**
 * `--access-log FILE`: requests per path from an nginx or gunicorn access log
 * in the combined format (`... "GET /api/block/7?x=1 HTTP/1.1" 200 ...`). The
 * query string is dropped; lines that do not hold a request are counted and
 * reported, never fatal.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { StranglerError } from '../core/errors.js';

const REQUEST = /"([A-Z]+) (\S+) HTTP\/[0-9.]+"/;

export interface AccessLogCounts {
  paths: Map<string, number>;
  requests: number;
  skipped: number;
}

export async function readAccessLog(file: string): Promise<AccessLogCounts> {
  const paths = new Map<string, number>();
  let requests = 0;
  let skipped = 0;
  const stream = createReadStream(file, 'utf8');
  const opened = new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  try {
    await opened;
  } catch (err) {
    throw new StranglerError(
      'STRANGLER_E_PLANNER_INPUT',
      `${file}: cannot read access log: ${(err as Error).message}`,
      {
        cause: err,
        details: { path: file },
      },
    );
  }
  for await (const line of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line.trim() === '') continue;
    const m = REQUEST.exec(line);
    if (!m) {
      skipped++;
      continue;
    }
    let target = m[2];
    // absolute-form request targets (RFC 9112 §3.2.2) name the path after the authority
    if (/^https?:\/\//i.test(target)) target = target.replace(/^https?:\/\/[^/]*/i, '') || '/';
    const q = target.indexOf('?');
    const path = q >= 0 ? target.slice(0, q) : target;
    paths.set(path, (paths.get(path) ?? 0) + 1);
    requests++;
  }
  return { paths, requests, skipped };
}
