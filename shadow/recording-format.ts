/**
 * The replay case file (docs/replay.md): JSON Lines, the first line a header
 * naming the format version and the route's rules (match, idempotent, ignore,
 * compared headers, noise), then one self-contained case a line. Written by
 * `strangler shadow export`, read by `strangler replay`. One home for the
 * shapes, the canonical text (sorted keys, so exporting twice gives the same
 * bytes and a re-export diffs line by line) and the parser that names the
 * line and field of anything wrong.
 */
import { z } from 'zod';
import { formatPath } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import { compileIgnore } from './paths.js';

export const REPLAY_FORMAT = 'strangler-replay';
/** Raised only when a reader of the previous version could not read the new file. */
export const REPLAY_FORMAT_VERSION = 1;

/** A body as recorded: decoded (no content-coding), UTF-8 text when it is text, else base64. */
export type CaseBody = { text: string } | { base64: string };

/** The route rules a case was judged by when it was recorded; the export's header carries the newest. */
export interface CaseRules {
  match: { path: string; methods?: string[] };
  idempotent: boolean;
  ignore: string[];
  compareHeaders: string[];
  ignoreArrayOrder: boolean;
}

/** One recorded exchange: the request, legacy's answer, the noise known then. */
export interface ReplayCase {
  /** A digest of the request and its time: stable across exports, a test name for JUnit. */
  id: string;
  /** When it was recorded (ISO 8601). */
  at: string;
  request: {
    method: string;
    /** Canonical path and query. */
    url: string;
    headers: Record<string, string>;
    /** Absent for a bodiless request. */
    body?: CaseBody;
    /** True when the request had a body that was not kept (an unsafe method on a route not marked idempotent). */
    bodyOmitted?: boolean;
  };
  legacy: { status: number; headers: Record<string, string>; body: CaseBody };
  /** Field keys (`$.generated_at`, `header:etag`) known as noise when it was recorded. */
  noise: string[];
  /** What redaction replaced (`header:authorization`, `$.user.email`), so a reader knows the markers are not data. */
  redacted: string[];
}

/** A case as the store keeps it: the case plus the route rules of that moment. */
export interface StoredCase extends ReplayCase {
  rules: CaseRules;
}

export interface ReplayHeader extends CaseRules {
  format: typeof REPLAY_FORMAT;
  version: number;
  route: string;
  /** Noise known at export (the newest evidence) besides each case's own. */
  noise: string[];
  cases: number;
}

export interface ReplayFile {
  header: ReplayHeader;
  cases: ReplayCase[];
}

/** JSON text with keys sorted at every level: the same value always gives the same bytes. */
export function canonicalText(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalText).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalText(o[k])}`).join(',')}}`;
}

/** Oldest first; cases recorded in the same millisecond by their id, so the order never depends on the store. */
function byTime(a: ReplayCase, b: ReplayCase): number {
  return a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The file text for a route's stored cases. The header takes the newest
 * case's rules; `noise` is what the evidence knows now, joined with nothing
 * else (each case keeps its own).
 */
export function formatReplayFile(route: string, stored: StoredCase[], noiseNow: readonly string[]): string {
  const cases = stored.map(({ rules: _rules, ...c }) => c).sort(byTime);
  const newest = [...stored].sort((a, b) => byTime(b, a))[0];
  const rules: CaseRules = newest?.rules ?? {
    match: { path: '/' },
    idempotent: false,
    ignore: [],
    compareHeaders: [],
    ignoreArrayOrder: false,
  };
  const header: ReplayHeader = {
    format: REPLAY_FORMAT,
    version: REPLAY_FORMAT_VERSION,
    route,
    ...rules,
    noise: [...new Set(noiseNow)].sort(),
    cases: cases.length,
  };
  return [header, ...cases].map((line) => `${canonicalText(line)}\n`).join('');
}

const stringMap = z.record(z.string(), z.string());
const body = z.union([z.object({ text: z.string() }).strict(), z.object({ base64: z.string() }).strict()]);

const headerSchema = z
  .object({
    format: z.literal(REPLAY_FORMAT),
    version: z.number().int().min(1),
    route: z.string().min(1),
    match: z.object({ path: z.string(), methods: z.array(z.string()).optional() }),
    idempotent: z.boolean(),
    ignore: z.array(z.string()),
    compareHeaders: z.array(z.string()),
    ignoreArrayOrder: z.boolean(),
    noise: z.array(z.string()),
    cases: z.number().int().min(0),
  })
  .strict();

const caseSchema = z
  .object({
    id: z.string().min(1),
    at: z.string(),
    request: z
      .object({
        method: z.string().regex(/^[A-Z]+$/, 'expected an HTTP method in capitals'),
        url: z.string().startsWith('/', 'expected a path starting with /'),
        headers: stringMap,
        body: body.optional(),
        bodyOmitted: z.boolean().optional(),
      })
      .strict(),
    legacy: z
      .object({
        status: z.number().int().min(100).max(599),
        headers: stringMap,
        body,
      })
      .strict(),
    noise: z.array(z.string()),
    redacted: z.array(z.string()),
  })
  .strict();

function badLine(file: string, line: number, field: string, message: string): StranglerError {
  return new StranglerError('STRANGLER_E_REPLAY_FILE', `${file}:${line}: ${field}: ${message}`, {
    details: { file, line, field },
  });
}

function parseLine<T>(file: string, line: number, text: string, schema: z.ZodType<T>): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw badLine(file, line, '(line)', `not JSON: ${(err as Error).message}`);
  }
  const res = schema.safeParse(raw);
  if (!res.success) {
    const issue = res.error.issues[0];
    throw badLine(file, line, formatPath(issue.path), issue.message);
  }
  return res.data;
}

/** Parse a case file's text; throws STRANGLER_E_REPLAY_FILE naming the line and field of the first problem. */
export function parseReplayFile(text: string, file = 'cases.jsonl'): ReplayFile {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length === 0 || lines[0].trim() === '')
    throw badLine(file, 1, '(header)', `empty file; expected a ${REPLAY_FORMAT} header line`);
  const first = parseLine(file, 1, lines[0], z.object({ format: z.unknown(), version: z.unknown() }));
  if (first.format !== REPLAY_FORMAT)
    throw badLine(
      file,
      1,
      'format',
      `expected "${REPLAY_FORMAT}" (a file written by strangler shadow export)`,
    );
  if (typeof first.version === 'number' && first.version > REPLAY_FORMAT_VERSION)
    throw badLine(
      file,
      1,
      'version',
      `format version ${first.version} is newer than this strangler reads (${REPLAY_FORMAT_VERSION}); upgrade strangler`,
    );
  const header = parseLine(file, 1, lines[0], headerSchema) as ReplayHeader;
  try {
    compileIgnore(header.ignore, 'ignore');
  } catch (err) {
    const field = String((err as StranglerError).details?.field ?? 'ignore');
    throw badLine(file, 1, field, (err as Error).message.replace(/^ignore\[\d+\]: /, ''));
  }
  const cases: ReplayCase[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    cases.push(parseLine(file, i + 1, lines[i], caseSchema) as ReplayCase);
  }
  if (header.cases !== cases.length)
    throw badLine(
      file,
      1,
      'cases',
      `the header says ${header.cases} cases, the file holds ${cases.length} (cut short?)`,
    );
  return { header, cases };
}

/** A recorded body as bytes. */
export function bodyBytes(b: CaseBody | undefined): Buffer {
  if (!b) return Buffer.alloc(0);
  return 'text' in b ? Buffer.from(b.text, 'utf8') : Buffer.from(b.base64, 'base64');
}
