/**
 * Replay: send recorded cases (shadow/recording-format.ts) to a service build
 * and judge each answer against legacy's recorded one with the shadow diff
 * (shadow/diff.ts), the recorded ignore rules and the recorded noise: a case
 * passes when nothing but noise differs. docs/replay.md.
 *
 * A replay never runs a write the recording did not promise is harmless:
 * an unsafe method is sent only when the case file says the route is
 * idempotent and the operator passes allowUnsafe; a case whose body was not
 * recorded is never sent.
 */
import { Pool } from 'undici';
import { basePathOf } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import { isSafeMethod } from '../core/resend.js';
import { type CapturedResponse, diffResponses, type ShadowDifference } from '../shadow/diff.js';
import { compileIgnore } from '../shadow/paths.js';
import { bodyBytes, type ReplayCase, type ReplayFile } from '../shadow/recording-format.js';
import { redactedMarker } from '../shadow/redaction.js';

export interface ReplayOptions {
  /** Base URL of the service build (a path prefix is kept). */
  target: string;
  /** Requests in flight at once (the pool's connections). */
  concurrency: number;
  /** Send unsafe methods of a route the file marks idempotent. */
  allowUnsafe: boolean;
  /** Per-case deadline for the answer's headers and body. */
  timeoutMs: number;
  /** Headers set on every request (e.g. a test credential in place of a redacted one). */
  headers?: Record<string, string>;
  /** Called after each case. */
  onProgress?: (done: number, total: number) => void;
  /** Monotonic ms, for durations. */
  clock?: () => number;
}

export type CaseVerdict = 'pass' | 'fail' | 'error' | 'skipped';

/** What one case came to; `differences` only for a failure, cut to a few. */
export interface CaseOutcome {
  id: string;
  method: string;
  url: string;
  verdict: CaseVerdict;
  /** Differing field keys that are not noise (a failure's reason). */
  fields: string[];
  /** Differing field keys tolerated as noise. */
  noise: string[];
  /** Why it was skipped or errored. */
  reason?: string;
  durationMs: number;
}

/** One example pair per differing field, as the shadow report shows. */
export interface FieldExample {
  field: string;
  cases: number;
  example: {
    caseId: string;
    method: string;
    url: string;
    differences: ShadowDifference[];
    legacy: { status: number; body: string };
    service: { status: number; body: string };
  };
}

export interface ReplayResult {
  /**
   * Every case that ran passed (noise aside), and at least one ran: a failed
   * or errored case fails the replay, and so does a suite that checked nothing.
   */
  ok: boolean;
  file: string;
  route: string;
  target: string;
  total: number;
  passed: number;
  failed: number;
  errors: number;
  skipped: Record<string, number>;
  durationMs: number;
  concurrency: number;
  /** Fields that failed cases, most cases first. */
  fields: FieldExample[];
  /** Noise fields that differed and were tolerated, with their case counts. */
  noise: Record<string, number>;
  cases: CaseOutcome[];
}

const EXAMPLE_BODY_CHARS = 2000;
const EXAMPLE_DIFFERENCES = 10;

/** Why a case is not sent, or undefined when it is. */
export function skipReason(c: ReplayCase, idempotent: boolean, allowUnsafe: boolean): string | undefined {
  if (c.request.bodyOmitted) return 'body-not-recorded';
  if (isSafeMethod(c.request.method)) return undefined;
  if (!idempotent) return 'unsafe';
  return allowUnsafe ? undefined : 'unsafe-needs-allow-unsafe';
}

/** The headers a replayed request carries: the recorded ones without redaction markers, then the operator's. */
function requestHeaders(c: ReplayCase, extra: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.request.headers)) if (v !== redactedMarker(k)) out[k] = v;
  for (const [k, v] of Object.entries(extra)) out[k.toLowerCase()] = v;
  return out;
}

const preview = (b: Buffer) => {
  const t = b.toString('utf8');
  return t.length > EXAMPLE_BODY_CHARS ? `${t.slice(0, EXAMPLE_BODY_CHARS)}…` : t;
};

/** The target's base URL, or STRANGLER_E_USAGE naming --target. */
export function replayTarget(target: string): URL {
  let base: URL | undefined;
  try {
    base = new URL(target);
  } catch {
    base = undefined;
  }
  if (base?.protocol !== 'http:' && base?.protocol !== 'https:')
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `--target: expected an http:// or https:// URL, got "${target}"`,
      {
        details: { field: 'target' },
      },
    );
  return base;
}

/** Replay every case of `file` against `opts.target`; never throws for a case, only for bad options. */
export async function replayCases(
  name: string,
  file: ReplayFile,
  opts: ReplayOptions,
): Promise<ReplayResult> {
  const base = replayTarget(opts.target);
  const clock = opts.clock ?? (() => performance.now());
  const { header } = file;
  const diffOptions = {
    compareHeaders: header.compareHeaders,
    ignore: compileIgnore(header.ignore, `${name}: ignore`),
    ignoreArrayOrder: header.ignoreArrayOrder,
  };
  const headerNoise = new Set(header.noise);
  const prefix = basePathOf(base);
  const pool = new Pool(base.origin, { connections: opts.concurrency, pipelining: 1 });
  const outcomes: CaseOutcome[] = new Array(file.cases.length);
  const examples = new Map<string, FieldExample>();
  const noise: Record<string, number> = {};
  let done = 0;

  const one = async (c: ReplayCase): Promise<CaseOutcome> => {
    const base = { id: c.id, method: c.request.method, url: c.request.url, fields: [], noise: [] };
    const skip = skipReason(c, header.idempotent, opts.allowUnsafe);
    if (skip) return { ...base, verdict: 'skipped', reason: skip, durationMs: 0 };
    const t0 = clock();
    let service: CapturedResponse & { body: Buffer };
    try {
      const res = await pool.request({
        path: prefix + c.request.url,
        method: c.request.method,
        headers: requestHeaders(c, opts.headers ?? {}),
        body: c.request.body ? bodyBytes(c.request.body) : undefined,
        headersTimeout: opts.timeoutMs,
        bodyTimeout: opts.timeoutMs,
      });
      service = {
        status: res.statusCode,
        headers: res.headers as CapturedResponse['headers'],
        body: Buffer.from(await res.body.arrayBuffer()),
      };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      return {
        ...base,
        verdict: 'error',
        reason: e.code ?? e.message ?? String(err),
        durationMs: clock() - t0,
      };
    }
    const durationMs = clock() - t0;
    const legacy: CapturedResponse = {
      status: c.legacy.status,
      headers: c.legacy.headers,
      body: bodyBytes(c.legacy.body),
    };
    const diff = diffResponses(legacy, service, diffOptions);
    const tolerated = (f: string) => headerNoise.has(f) || c.noise.includes(f);
    const fields = diff.fields.filter((f) => !tolerated(f));
    const noisy = diff.fields.filter(tolerated);
    for (const f of noisy) noise[f] = (noise[f] ?? 0) + 1;
    for (const f of fields) {
      const ex = examples.get(f);
      if (ex) ex.cases++;
      else
        examples.set(f, {
          field: f,
          cases: 1,
          example: {
            caseId: c.id,
            method: c.request.method,
            url: c.request.url,
            differences: diff.differences.filter((d) => !tolerated(d.field)).slice(0, EXAMPLE_DIFFERENCES),
            legacy: { status: legacy.status, body: preview(legacy.body!) },
            service: { status: service.status, body: preview(service.body) },
          },
        });
    }
    return { ...base, verdict: fields.length ? 'fail' : 'pass', fields, noise: noisy, durationMs };
  };

  const started = clock();
  let next = 0;
  const worker = async () => {
    while (next < file.cases.length) {
      const i = next++;
      outcomes[i] = await one(file.cases[i]);
      opts.onProgress?.(++done, file.cases.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, worker));
  } finally {
    await pool.close();
  }
  const count = (v: CaseVerdict) => outcomes.filter((o) => o.verdict === v).length;
  const skipped: Record<string, number> = {};
  for (const o of outcomes) if (o.verdict === 'skipped') skipped[o.reason!] = (skipped[o.reason!] ?? 0) + 1;
  const [passed, failed, errors] = [count('pass'), count('fail'), count('error')];
  return {
    ok: failed === 0 && errors === 0 && passed > 0,
    file: name,
    route: header.route,
    target: opts.target,
    total: outcomes.length,
    passed,
    failed,
    errors,
    skipped,
    durationMs: clock() - started,
    concurrency: opts.concurrency,
    fields: [...examples.values()].sort((a, b) => b.cases - a.cases || (a.field < b.field ? -1 : 1)),
    noise,
    cases: outcomes,
  };
}
