/**
 * Serves the operator console (console/) at /ui on the admin listener. The
 * files are plain ES modules, CSS and one HTML page, read once at start into
 * memory from the package's own console/ folder: nothing is fetched from
 * anywhere at run time, and only files that were in the folder at start can
 * be asked for (no path from the URL ever reaches the file system).
 *
 * Every answer carries a strict Content-Security-Policy: scripts, styles and
 * fetches from this origin only, no inline code, no plugins, no framing
 * (frame-ancestors 'none', CSP3 §6.4.2; X-Frame-Options for older browsers),
 * no form posts anywhere; plus nosniff so a file is only ever run as the type
 * we say it is.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type http from 'node:http';

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const CONSOLE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-cache',
});

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The console folder: `<package>/console`. From the sources (control/*.ts,
 * run by vitest) that is one level up; from the build (dist/control/*.js) two.
 */
export function consoleDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', '../..']) {
    const dir = path.resolve(here, up, 'console');
    if (existsSync(path.join(dir, 'index.html'))) return dir;
  }
  throw new Error(`console/index.html not found above ${here}`);
}

export interface ConsoleAssets {
  /** Answer GET /ui/<name>; false when there is no such file. */
  serve(name: string, res: http.ServerResponse): boolean;
}

export function loadConsoleAssets(dir = consoleDir()): ConsoleAssets {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[path.extname(name)];
    if (type) files.set(name, { body: readFileSync(path.join(dir, name)), type });
  }
  return {
    serve(name, res) {
      const f = files.get(name);
      if (!f) return false;
      res.writeHead(200, { ...CONSOLE_HEADERS, 'content-type': f.type, 'content-length': f.body.length });
      res.end(f.body);
      return true;
    },
  };
}
