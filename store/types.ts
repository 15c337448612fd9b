/**
 * One store interface with two implementations: SQLite (store/sqlite/, the
 * embedded default, one machine) and Redis (store/redis/, many proxy
 * instances). The store is the single source of truth for route modes and
 * route definitions (core/route-definitions.ts); a config file seeds an empty
 * store, then changes reach it through `strangler apply`. Every method is
 * async so both backends fit.
 *
 * Sub-stores are separate objects so each concern (routes, audit, shadow
 * evidence, stats windows, load-test results) lives in its own module per
 * backend. test/store/contract.ts runs the same suite against every backend.
 */
import type { RouteDefinition, StoredDefinitions, UpstreamDefinitions } from '../core/route-definitions.js';
import type {
  AuditEntry,
  AuditInput,
  Mode,
  RouteChange,
  RouteSeed,
  RouteState,
  Target,
} from '../core/types.js';

export interface RouteStore {
  /**
   * Insert routes the store has never seen (audited as 'seed'); existing
   * runtime state wins over the config. The first seed also gives the store
   * its identity (see Store.identity). Only `serve` and `strangler seed` call
   * this: a read never seeds (DESIGN.md).
   */
  seed(routes: RouteSeed[], actor: string, upstreams?: UpstreamDefinitions): Promise<RouteState[]>;
  list(): Promise<RouteState[]>;
  /** Every route's definition and the upstreams document (core/route-definitions.ts). */
  definitions(): Promise<StoredDefinitions>;
  /**
   * Write an applied plan (control/apply-plan.ts) in one transaction: per
   * route its new definition (added routes with their mode and weight,
   * removed routes deleted) with a new version and an audit row, the
   * upstreams document with one audit row, and the table version raised once.
   * Throws STRANGLER_E_STALE_VERSION, changing nothing, when a route or the
   * upstreams are no longer what the plan was made from; STRANGLER_E_STORE_LOST
   * like flip. Returns the new table version.
   */
  applyDefinitions(write: DefinitionWrite): Promise<number>;
  get(id: string): Promise<RouteState | undefined>;
  /**
   * Change a route's mode/weight and append the audit row in one transaction.
   * Throws STRANGLER_E_UNKNOWN_ROUTE, or STRANGLER_E_STALE_VERSION when
   * `expectVersion` is given and differs, or STRANGLER_E_STORE_LOST when the
   * store's state is not the one this object opened (nothing is changed then).
   */
  flip(change: RouteChange): Promise<RouteState>;
  /**
   * The generation: a counter every flip, seed, apply and accepted restore
   * raises, never lowered within one store identity; `watch` compares it to
   * notice route changes (store/version-watch.ts), and a value below one
   * already seen means the store went back (store/generation.ts).
   */
  tableVersion(): Promise<number>;
  /**
   * `strangler seed --accept-restore`: in one transaction, raise the
   * generation above `highestSeen` (the generation proxies saw before the
   * store went back) and append the audit row `store.restore-accepted`
   * recording both generations. Refused (STRANGLER_E_STORE_LOST) if the
   * identity is not the one opened. Returns the new generation.
   */
  acceptRestore(req: { highestSeen: number; actor: string; reason: string }): Promise<number>;
}

/** One applied plan, as the store writes it (RouteStore.applyDefinitions). */
export interface DefinitionWrite {
  actor: string;
  reason: string;
  routes: Array<{
    id: string;
    op: 'add' | 'remove' | 'change';
    /** null when removed. */
    definition: RouteDefinition | null;
    /** An added route's mode and weight (the file's, as a seed takes them); ignored otherwise. */
    mode: Mode;
    weight: number;
    /** The route version the plan read (undefined for an added route, which must still be absent). */
    expectVersion?: number;
    details: Record<string, unknown>;
  }>;
  upstreams?: {
    /** The document the plan read (null: none yet). */
    expect: UpstreamDefinitions | null;
    next: UpstreamDefinitions;
    details: Record<string, unknown>;
  };
}

export interface AuditLog {
  append(entry: AuditInput): Promise<AuditEntry>;
  /**
   * Newest last. The newest row of one route and action (`{ route, action,
   * limit: 1 }`) is a lookup in a record kept current on every append, not a
   * scan, whatever the log's length.
   */
  list(query?: { route?: string; limit?: number; action?: string }): Promise<AuditEntry[]>;
}

/**
 * How much audit history a store keeps: rows beyond the newest `maxRows`, and
 * rows older than `maxAgeMs`, are trimmed as new rows arrive (Redis: `XADD
 * MAXLEN ~`, approximate by design). Route state and rollout records are not
 * audit rows and are never trimmed.
 */
export interface AuditRetention {
  maxRows: number;
  maxAgeMs: number;
}

export const DEFAULT_AUDIT_RETENTION: AuditRetention = {
  maxRows: 1_000_000,
  maxAgeMs: 90 * 24 * 3600 * 1000,
};

/**
 * Small JSON records with a revision, written compare-and-set: the rollout
 * of a route (control/canary.ts) lives here, so any process can read and steer
 * it and it is never lost to audit retention.
 */
export interface RecordStore {
  get<T>(kind: string, key: string): Promise<{ value: T; rev: number } | undefined>;
  list<T>(kind: string): Promise<Array<{ key: string; value: T; rev: number }>>;
  /**
   * Write `value` if the record is still at revision `expectRev` (0: it must
   * not exist yet). False, with nothing changed, when another writer got
   * there first.
   */
  put(kind: string, key: string, value: unknown, expectRev: number): Promise<boolean>;
}

/** What a running proxy leaves on a store it found lost (store/lost-mark.ts). */
export interface LostMark {
  /** The identity the noticing proxy had opened (null if it never saw one). */
  lostId: string | null;
  /** The route-table version of the store when it was last intact, as that proxy read it. */
  lastVersion: number | null;
  /** `host:pid` of the proxy that noticed. */
  noticedBy: string;
  noticedAt: string;
  reason: string;
  /** Set when the store went back to an older generation (store/generation.ts); `lastVersion` is then `from`. */
  wentBack?: { from: number; to: number };
}

/** What a proxy knows when it notices; the store adds the identity it opened and the time. */
export type LostNotice = Pick<LostMark, 'lastVersion' | 'noticedBy' | 'reason' | 'wentBack'>;

/** Written once, by the first seed: which state a store holds. */
export interface StoreIdentity {
  id: string;
  createdAt: string;
}

/**
 * Whether a store object still talks to the state it opened:
 * - ok: it does;
 * - uninitialised: the store holds no identity and this object never saw one
 *   (a new store no `serve` has seeded yet);
 * - lost: the identity this object saw vanished or changed (Redis restarted
 *   empty, another seed), the SQLite file was removed or replaced, or the
 *   generation went below one this object saw (restored from an older
 *   backup: store/generation.ts).
 * A lost store is never re-seeded behind anyone's back: readers keep their
 * last good state and writers are refused until an operator restores it.
 */
export type StoreIntegrity =
  | { state: 'ok'; id: string }
  | { state: 'uninitialised'; reason: string }
  | {
      state: 'lost';
      reason: string;
      /** Set when the identity is the one opened but its generation went back (store/generation.ts). */
      wentBack?: { from: number; to: number };
    };

/** Per-route shadow evidence: written by shadow/ after each comparison, read by gates, the guard and reports. */
export interface ShadowStore {
  /** Apply a batch of counter increments and samples for one route (one transaction). */
  record(route: string, batch: ShadowBatch): Promise<void>;
  /**
   * The route's evidence. `fieldExamples` (up to MAX_FIELD_EXAMPLES samples)
   * only when asked for: gates, the guard and /routes read evidence often and
   * need the counters, not the bodies.
   */
  evidence(route: string, opts?: { fieldExamples?: boolean }): Promise<ShadowEvidence>;
  reset(route: string): Promise<void>;
}

/**
 * The shadow counters: what a batch adds and the evidence holds, and what
 * shadow/noise.ts judges (its NoiseCounters is this shape). One
 * declaration, so a counter added here reaches every reader.
 */
export interface ShadowCounters {
  compared: number;
  /** Requests whose responses had no (non-ignored) difference at all. */
  matched: number;
  /** Requests not compared, by reason (sampled-out, concurrency-cap, body-cap, timeout, error...). */
  skipped: Record<string, number>;
  /** Per field path: times it differed against the service, times it differed between two legacy answers, legacy-vs-legacy pairs observed. */
  fieldDiffs: Record<string, number>;
  fieldNoise: Record<string, number>;
  noisePairs: number;
  /**
   * Requests per distinct set of differing fields (key: sorted field keys joined
   * by newlines; '*' pools sets beyond the bound). Lets the match rate honour
   * noise learned later: see shadow/noise.ts. Absent in evidence written
   * before mismatch sets were kept.
   */
  mismatchSets?: Record<string, number>;
}

export interface ShadowBatch extends ShadowCounters {
  /** Latency samples in ms from the same paired requests. */
  latency: { legacy: number[]; service: number[] };
  errors: { legacy: number; service: number };
  samples: ShadowSample[];
  /** Mismatch samples kept per route (route.shadow.sampleRing); the store's default when absent. */
  sampleRing?: number;
}

export interface ShadowSample {
  at: string;
  endpoint: string; // the route pattern, not the raw URL
  /** Which side served the client (the other one got the copy). */
  primary?: 'legacy' | 'service';
  request: { method: string; url: string; headers: Record<string, string> };
  legacy: { status: number; headers: Record<string, string>; body: string };
  service: { status: number; headers: Record<string, string>; body: string };
  differences: Array<{ path: string; kind: string; legacy?: unknown; service?: unknown }>;
  /**
   * The counting keys (generalised paths, `$.items[*].name`) this sample shows
   * differing, so the store can keep it as its fields' newest example
   * (ShadowEvidence.fieldExamples). Absent in samples stored before it existed.
   */
  fields?: string[];
}

/** A batch (or a route's evidence) with nothing in it yet. */
export function emptyShadowBatch(): ShadowBatch {
  return {
    compared: 0,
    matched: 0,
    skipped: {},
    fieldDiffs: {},
    fieldNoise: {},
    noisePairs: 0,
    mismatchSets: {},
    latency: { legacy: [], service: [] },
    errors: { legacy: 0, service: 0 },
    samples: [],
  };
}

/** The route's counters so far (ShadowCounters). `matched` counts exact matches; the match rate after noise comes from shadow/noise.ts summariseMatches(). */
export interface ShadowEvidence extends ShadowCounters {
  route: string;
  /**
   * Raw latency reservoirs (ms) per target, the newest LATENCY_RESERVOIR of
   * each; index i of both arrays is one paired request (primary and its copy).
   */
  latency: { legacy: number[]; service: number[] };
  errors: { legacy: number; service: number };
  samples: ShadowSample[];
  /**
   * The newest sample per differing field, kept beside the ring so a rare
   * field keeps its example after `samples` has moved on (at most
   * MAX_FIELD_EXAMPLES fields per route: store/field-examples.ts).
   */
  fieldExamples?: Record<string, ShadowSample>;
}

/**
 * A route's recording (shadow/recording.ts): redacted cases, each a JSON value
 * the store keeps as it was given, with the time it was recorded. The store
 * enforces the bounds on every add, in the same transaction, so no reader ever
 * sees more than the limits allow.
 */
export interface RecordingStore {
  /** Append cases (oldest first) and drop, oldest first, whatever is then beyond the limits. */
  add(route: string, cases: RecordedEntry[], limits: RecordingLimits): Promise<void>;
  /** The route's cases, oldest first. */
  list(route: string): Promise<RecordedEntry[]>;
  /** How many cases and bytes the route's recording holds. */
  size(route: string): Promise<{ cases: number; bytes: number }>;
  reset(route: string): Promise<void>;
}

export interface RecordedEntry {
  /** Epoch ms when it was recorded. */
  at: number;
  value: unknown;
}

/** Counted in UTF-8 bytes of each case's JSON text, the same on both backends. */
export interface RecordingLimits {
  maxCases: number;
  maxBytes: number;
  /** Cases recorded before `now - maxAgeMs` are dropped. */
  maxAgeMs: number;
  now: number;
}

/** Requests, errors and a latency histogram per route and target over one window, flushed by each proxy. */
export interface StatsWindow {
  route: string;
  target: Target;
  instance: string;
  /** Window start, epoch ms, aligned to the flush interval. */
  start: number;
  /**
   * The route version the proxy served these requests under: a flip mid-window
   * starts a new window, so evidence about version N never counts for N+1.
   * Absent on windows stored before versions were recorded (judged by time alone).
   */
  version?: number;
  durationMs: number;
  requests: number;
  errors: number;
  failovers: number;
  /** Counts per latency bucket upper bound (ms), same bounds for every window: see store/stats-window.ts. */
  buckets: number[];
}

export interface StatsStore {
  add(windows: StatsWindow[]): Promise<void>;
  /** Windows whose start is >= since (epoch ms), for a route or all. */
  query(q: { route?: string; since: number; target?: Target }): Promise<StatsWindow[]>;
}

/**
 * What a result is: a load-test run, a plan, or a finding a proxy made about
 * an upstream (proxy/keepalive-stall.ts) for the CLI's reports to show.
 */
export type ResultKind = 'loadtest' | 'plan' | 'finding';

/** Saved load-test runs, plans and findings, so reports can show them later. */
export interface ResultStore {
  put(kind: ResultKind, key: string, value: unknown): Promise<void>;
  latest(kind: ResultKind, key?: string): Promise<{ key: string; at: string; value: unknown } | undefined>;
  list(kind: ResultKind, limit?: number): Promise<Array<{ key: string; at: string; value: unknown }>>;
}

/**
 * Named leases with expiry, so exactly one instance runs a singleton job (the
 * guard, the canary stepper) and another takes over when the holder dies.
 * Expiry is the store's clock (Redis PX) or the machine's clock (SQLite, one
 * machine), never the caller's. See store/lease.ts for the renewing holder.
 */
export interface LeaseStore {
  /** Take `name` for `holder` if free, expired or already held by `holder` (then renewed). True if held after the call. */
  acquire(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Extend the lease only if `holder` still holds it; false means it was lost (expired and taken, or released). */
  renew(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Give the lease up if `holder` holds it, so another instance need not wait for expiry. */
  release(name: string, holder: string): Promise<void>;
  /** The current unexpired holder, if any. */
  holder(name: string): Promise<{ holder: string; expiresInMs: number } | undefined>;
}

export interface Store {
  readonly kind: 'sqlite' | 'redis';
  readonly routes: RouteStore;
  readonly audit: AuditLog;
  readonly shadow: ShadowStore;
  readonly stats: StatsStore;
  readonly results: ResultStore;
  readonly lease: LeaseStore;
  readonly records: RecordStore;
  readonly recordings: RecordingStore;
  /** Where the store is, without credentials, for messages (`sqlite:/path`, `redis://host:port/0`). */
  readonly label: string;
  /** The identity written by the first seed, if any. */
  identity(): Promise<StoreIdentity | undefined>;
  integrity(): Promise<StoreIntegrity>;
  /** The lost mark a proxy left on this store, if any (see store/lost-mark.ts). */
  lostMark(): Promise<LostMark | undefined>;
  /**
   * Leave the lost mark unless one is there (the first noticer wins), naming
   * the identity this object opened; returns the mark in place.
   */
  markLost(notice: LostNotice): Promise<LostMark>;
  /** Remove the mark: a restored store (`serve`) or a deliberate re-seed (`strangler seed`). */
  clearLostMark(): Promise<void>;
  /**
   * The last write that failed for a store reason (disk full, read-only file,
   * Redis away), cleared by the next write that succeeds: what `/healthz`
   * reports as degraded.
   */
  lastWriteError(): { at: string; op: string; message: string } | undefined;
  /**
   * Call `onChange` soon after any route changes, from this process or another
   * (SQLite: polling a version; Redis: pub/sub plus a periodic version check).
   * How a flip reaches a running proxy: store/version-watch.ts.
   */
  watch(onChange: () => void, intervalMs?: number): () => void;
  close(): Promise<void>;
}
