/**
 * Finds the import statements of one Python source file without running it:
 * a hand-written tokenizer (python-tokens.ts: a state machine over char codes
 * that knows strings, comments, brackets and line continuations) feeds logical
 * lines to the statement reader here, which tracks indentation blocks, so
 * every import is found with its kind (top, function, conditional, try,
 * type_checking) and line. It tolerates Python 2 (`print x`, `except E, e`, backticks, `ur''`)
 * and reports, rather than throws on, source it cannot make sense of.
 */
import { type LogicalLine, PythonTokenizer, type SourceProblem, T_NAME } from './python-tokens.js';
import type { ImportKind } from './types.js';

/** An import as written: `name` is absolute, or relative with `level` leading dots. */
export interface RawImport {
  /** Dotted name imported (`a.b` for `import a.b`, `a.b.c` for `from a.b import c`, `a.b` for `from a.b import *`). */
  name: string;
  /** Leading dots of a `from` import (0 = absolute). */
  level: number;
  kind: ImportKind;
  line: number;
  /** Later references in the file to the local name this import binds (`block.is_blocked(...)` counts for block); null when the binding does not name the import exactly. */
  uses: number | null;
  /** `from a.b import *`: `name` is a module, never a name inside its parent. */
  star?: true;
  /** The local name the import binds, when it names the import exactly. */
  local?: string;
}

export interface SourceScan {
  imports: RawImport[];
  /** Lines of code: lines holding a token (a multi-line string counts every line it spans); blank and comment-only lines do not count. */
  loc: number;
  problems: SourceProblem[];
  /** String literals long enough to hold SQL, as flat [start, end, line] triples (offsets into the text without a BOM). */
  strings: number[];
  /**
   * What each top-level definition (`def`/`class` in column 0; '' for the
   * module's own statements) refers to: import-bound names, with the
   * attribute read on them (`models.Aggregate` -> ['models', 'Aggregate']),
   * and the file's own top-level definitions it calls. The data-ownership
   * reader (planner/table-references.ts) follows these to the tables a
   * function touches.
   */
  scopes: ScopeRefs;
}

/** Per top-level definition: [local, attribute or ''] pairs and own definitions referred to. */
export type ScopeRefs = Map<string, { refs: Set<string>; calls: Set<string>; chains: Set<string> }>;

/** Options of `scanPythonSource`. */
export interface SourceScanOptions {
  /**
   * Last segments of the tree's modules (`db`, `model`): an attribute chain
   * `x.db.changes` through one of them is recorded in `chains` as
   * `db.changes` (how buildbot reaches its connector components).
   */
  segments?: ReadonlySet<string>;
}

// Block kinds pushed for compound statements; 'plain' blocks (class, with)
// keep module-level semantics because their bodies run at import time.
type BlockKind = ImportKind | 'plain';
interface Block {
  indent: number;
  kind: BlockKind;
}

const COMPOUND = new Set([
  'if',
  'elif',
  'else',
  'try',
  'except',
  'finally',
  'while',
  'for',
  'with',
  'def',
  'class',
  'async',
]);

/** Scan one file's text. Never throws on malformed input. */
export function scanPythonSource(source: string, options: SourceScanOptions = {}): SourceScan {
  // A UTF-8 byte order mark is not part of the first line (Python's tokenizer drops it; PEP 263).
  const src = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  const tokenizer = new PythonTokenizer(src);
  const reader = new StatementReader(tokenizer.tokens, topLevelNames(src), options.segments ?? null);
  while (tokenizer.nextLogicalLine()) reader.readLogicalLine();
  return {
    imports: reader.bindings.settle(),
    loc: tokenizer.loc,
    problems: tokenizer.problems,
    strings: tokenizer.strings,
    scopes: reader.bindings.scopes,
  };
}

const DEF_NAME = /(?:async[ \t]+)?(?:def|class)[ \t]+([A-Za-z_]\w*)/y;

/** Names of the file's top-level functions and classes (read before tokenising: a call may precede its def). */
function topLevelNames(src: string): Set<string> {
  const names = new Set<string>();
  // Only lines starting with `d`, `c` or `a` can be one: found with indexOf, not a multi-line regex.
  for (let at = 0; at >= 0 && at < src.length; at = src.indexOf('\n', at) + 1 || -1) {
    const c = src.charCodeAt(at);
    if (c !== 100 && c !== 99 && c !== 97) continue; // d, c, a
    DEF_NAME.lastIndex = at;
    const m = DEF_NAME.exec(src);
    if (m) names.add(m[1]);
  }
  return names;
}

/** One filter per tree's segment set (built once, not per file). */
const segmentFilters = new WeakMap<ReadonlySet<string>, NameFilter>();
function segmentFilterOf(segments: ReadonlySet<string>): NameFilter {
  let f = segmentFilters.get(segments);
  if (!f) {
    f = new NameFilter(segments);
    segmentFilters.set(segments, f);
  }
  return f;
}

/** A set of names with cheap pre-filters (first char, length), so most identifiers are never sliced into strings. */
class NameFilter {
  /** Seen (first char, second char) pairs, 7 bits each; one-char names use 0 as the second. */
  private readonly pairs = new Uint8Array(128 * 128);
  private readonly length = new Uint8Array(64);
  constructor(names: Iterable<string> = []) {
    for (const n of names) this.add(n);
  }
  add(name: string): void {
    const a = name.charCodeAt(0);
    const b = name.length > 1 ? name.charCodeAt(1) : 0;
    this.pairs[((a < 128 ? a : 127) << 7) | (b < 128 ? b : 127)] = 1;
    this.length[name.length < 64 ? name.length : 63] = 1;
  }
  /** False when the token at [start, end) cannot be one of the names. */
  mayHave(src: string, start: number, end: number): boolean {
    const len = end - start;
    if (this.length[len < 64 ? len : 63] !== 1) return false;
    const a = src.charCodeAt(start);
    const b = len > 1 ? src.charCodeAt(start + 1) : 0;
    return this.pairs[((a < 128 ? a : 127) << 7) | (b < 128 ? b : 127)] === 1;
  }
}

/**
 * The imports of a file and the local names they bind, with how often the
 * rest of the file refers to each name: the planner weighs an edge by its
 * uses (`block.is_blocked(...)` counts for `import block`).
 */
class ImportBindings {
  private readonly imports: RawImport[] = [];
  private readonly bound = new Map<string, RawImport[]>();
  private readonly useCounts = new Map<string, number>();
  /** Import-bound names and the file's top-level definitions. */
  private readonly nameFilter: NameFilter;
  private readonly segmentFilter: NameFilter | null;
  /** See SourceScan.scopes. */
  readonly scopes: ScopeRefs = new Map();
  /** The top-level definition the current logical line belongs to ('' for module-level statements; `Class.method` in a method). */
  scope = '';
  /** The top-level class being read: `self.x(...)`/`cls.x(...)` in it call `Class.x`. */
  scopeClass: string | null = null;

  constructor(
    private readonly defs: ReadonlySet<string>,
    private readonly segments: ReadonlySet<string> | null,
  ) {
    this.nameFilter = new NameFilter(defs);
    this.segmentFilter = segments && segments.size > 0 ? segmentFilterOf(segments) : null;
  }

  private scopeRefs(): { refs: Set<string>; calls: Set<string>; chains: Set<string> } {
    let s = this.scopes.get(this.scope);
    if (!s) {
      s = { refs: new Set(), calls: new Set(), chains: new Set() };
      this.scopes.set(this.scope, s);
    }
    return s;
  }

  /** Record an import; `local` is null when the name it binds is not the import itself (`import a.b` binds `a`). */
  bind(local: string | null, imp: RawImport): void {
    this.imports.push(imp);
    if (local === null) return;
    imp.local = local;
    const list = this.bound.get(local);
    if (list) list.push(imp);
    else this.bound.set(local, [imp]);
    if (!this.useCounts.has(local)) this.useCounts.set(local, 0);
    this.nameFilter.add(local);
  }

  /**
   * Count references to import-bound names in tokens [t, end), skipping
   * attribute names (`x.block`), and note in the current scope what each
   * refers to (see SourceScan.scopes).
   */
  countUses(tokens: LogicalLine, t: number, end: number): void {
    const { kinds, starts, ends, src } = tokens;
    const names = this.nameFilter;
    const segs = this.segmentFilter;
    const inClass = this.scopeClass !== null;
    for (let k = t; k < end; k++) {
      if (kinds[k] !== T_NAME) continue;
      // Cheap filters first (a few array reads); most tokens stop here.
      const s0 = starts[k];
      const e0 = ends[k];
      const nameHit = names.mayHave(src, s0, e0);
      const segHit = segs?.mayHave(src, s0, e0) === true;
      const len = e0 - s0;
      const selfHit = inClass && (len === 4 || len === 3);
      if (!nameHit && !segHit && !selfHit) continue;
      if (k > 0 && tokens.isOp(k - 1, 46)) {
        // `self.db.changes`: a chain through a module's last segment.
        if (segHit && k + 2 < end && tokens.isOp(k + 1, 46) && kinds[k + 2] === T_NAME) {
          const seg = tokens.text(k);
          if (this.segments!.has(seg)) this.scopeRefs().chains.add(`${seg}.${tokens.text(k + 2)}`);
        }
        continue;
      }
      if (
        selfHit &&
        k + 2 < end &&
        tokens.isOp(k + 1, 46) &&
        kinds[k + 2] === T_NAME &&
        (tokens.isName(k, 'self') || tokens.isName(k, 'cls'))
      ) {
        this.scopeRefs().calls.add(`${this.scopeClass}.${tokens.text(k + 2)}`);
        continue;
      }
      if (!nameHit) continue;
      const name = tokens.text(k);
      const c = this.useCounts.get(name);
      if (c !== undefined) {
        this.useCounts.set(name, c + 1);
        // `objects.InstanceList.get_counts` -> 'InstanceList.get_counts': the method, when there is one.
        let attr = k + 2 < end && tokens.isOp(k + 1, 46) && kinds[k + 2] === T_NAME ? tokens.text(k + 2) : '';
        if (attr !== '' && k + 4 < end && tokens.isOp(k + 3, 46) && kinds[k + 4] === T_NAME)
          attr += `.${tokens.text(k + 4)}`;
        this.scopeRefs().refs.add(`${name}.${attr}`);
      } else if (name !== this.scope && this.defs.has(name)) this.scopeRefs().calls.add(name);
    }
  }

  /** Once the whole file is read: every import with its final use count. */
  settle(): RawImport[] {
    for (const [local, list] of this.bound) for (const imp of list) imp.uses = this.useCounts.get(local) ?? 0;
    return this.imports;
  }
}

/** The compound statements enclosing the current logical line, found by indentation as Python's INDENT/DEDENT do. */
class BlockStack {
  private readonly blocks: Block[] = [];
  /** The block the current line's dedent closed last: an `else` at its indent belongs to it. */
  private lastClosed: Block | null = null;

  /** A logical line at `indent` closes every block opened at that indent or deeper. */
  closeTo(indent: number): void {
    this.lastClosed = null;
    const blocks = this.blocks;
    while (blocks.length > 0 && blocks[blocks.length - 1].indent >= indent) this.lastClosed = blocks.pop()!;
  }

  /** Open the block of the compound header at t (its `:` at colon). */
  open(tokens: LogicalLine, t: number, colon: number): void {
    const k = tokens.isName(t, 'async') ? t + 1 : t;
    const keyword = tokens.text(k);
    this.blocks.push({ indent: tokens.indent, kind: this.kindOf(tokens, keyword, k, colon) });
  }

  private kindOf(tokens: LogicalLine, keyword: string, k: number, colon: number): BlockKind {
    switch (keyword) {
      case 'def':
        return 'function';
      case 'class':
      case 'with':
        return 'plain';
      case 'try':
      case 'except':
      case 'finally':
        return 'try';
      case 'if':
        return isTypeCheckingTest(tokens, k, colon) ? 'type_checking' : 'conditional';
      case 'else': {
        // try/else runs as part of the try statement; if/for/while else is a branch.
        const closed = this.lastClosed;
        return closed && closed.indent === tokens.indent && closed.kind === 'try' ? 'try' : 'conditional';
      }
      default:
        return 'conditional'; // elif, while, for, match, case
    }
  }

  /** The kind an import gets here: the innermost that matters most (type_checking, then function, then try/conditional). */
  importKind(): ImportKind {
    let tryOrCond: ImportKind | null = null;
    let fn = false;
    for (const b of this.blocks) {
      if (b.kind === 'type_checking') return 'type_checking';
      if (b.kind === 'function') fn = true;
      else if (b.kind === 'try' || b.kind === 'conditional') tryOrCond = b.kind;
    }
    return fn ? 'function' : (tryOrCond ?? 'top');
  }
}

/**
 * The scope a column-0 logical line belongs to: a `def`/`class` header opens
 * its own; anything else (decorators included: they run at import time) is
 * module level ('').
 */
function topLevelScope(tokens: LogicalLine, current: string): string {
  if (tokens.count === 0) return current;
  const k = tokens.isName(0, 'async') ? 1 : 0;
  if ((tokens.isName(k, 'def') || tokens.isName(k, 'class')) && tokens.kinds[k + 1] === T_NAME)
    return tokens.text(k + 1);
  return '';
}

/** `if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:` (any module alias). */
function isTypeCheckingTest(tokens: LogicalLine, t: number, colon: number): boolean {
  return (
    colon > t + 1 &&
    tokens.isName(colon - 1, 'TYPE_CHECKING') &&
    (colon === t + 2 || tokens.isOp(colon - 2, 46))
  );
}

/**
 * Reads the statements of each logical line: imports and from-imports are
 * recorded with the kind their enclosing blocks give them, compound headers
 * open blocks, and every other token is only counted as a use of an imported
 * name. Statements split by `;` and a body on its header's line are read too.
 */
class StatementReader {
  readonly bindings: ImportBindings;
  private readonly blocks = new BlockStack();

  constructor(
    private readonly tokens: LogicalLine,
    defs: ReadonlySet<string>,
    segments: ReadonlySet<string> | null,
  ) {
    this.bindings = new ImportBindings(defs, segments);
  }

  readLogicalLine(): void {
    const tokens = this.tokens;
    const count = tokens.count;
    this.blocks.closeTo(tokens.indent);
    this.trackScope();
    let t = 0;
    while (t < count) {
      const end = this.statementEnd(t);
      const word = tokens.kinds[t] === T_NAME ? tokens.text(t) : '';
      if (word === 'import') {
        this.readImport(t, end);
      } else if (word === 'from') {
        this.readFrom(t, end);
      } else if (
        COMPOUND.has(word) ||
        ((word === 'match' || word === 'case') && tokens.isOp(count - 1, 58))
      ) {
        const colon = this.headerColon(t, count);
        if (colon >= 0) {
          this.bindings.countUses(tokens, t, colon);
          this.blocks.open(tokens, t, colon);
          // A body on the header's own line (`try: import x`) is read in the new block.
          t = colon + 1;
          continue;
        }
        this.bindings.countUses(tokens, t, end);
      } else {
        this.bindings.countUses(tokens, t, end);
      }
      t = end + 1;
    }
  }

  /** The class being read at top level, and the indent of its body's statements (-1 until seen). */
  private topClass: string | null = null;
  private classBodyIndent = -1;

  /**
   * Scopes: a top-level `def`/`class` opens its own; in a top-level class, a
   * method at the body's indent opens `Class.method` (class-level statements
   * belong to `Class`).
   */
  private trackScope(): void {
    const tokens = this.tokens;
    const b = this.bindings;
    if (tokens.count === 0) return;
    if (tokens.indent === 0) {
      b.scope = topLevelScope(tokens, b.scope);
      const k = tokens.isName(0, 'async') ? 1 : 0;
      this.topClass = tokens.isName(k, 'class') && b.scope !== '' ? b.scope : null;
      this.classBodyIndent = -1;
      b.scopeClass = this.topClass;
      return;
    }
    if (this.topClass === null) return;
    if (this.classBodyIndent < 0) this.classBodyIndent = tokens.indent;
    if (tokens.indent !== this.classBodyIndent) return;
    const k = tokens.isName(0, 'async') ? 1 : 0;
    b.scope =
      tokens.isName(k, 'def') && tokens.kinds[k + 1] === T_NAME
        ? `${this.topClass}.${tokens.text(k + 1)}`
        : this.topClass;
  }

  /** Index of the statement end (`;` at depth 0 or end of line) from t. */
  private statementEnd(t: number): number {
    const tokens = this.tokens;
    const base = tokens.depths[t];
    for (let k = t; k < tokens.count; k++) if (tokens.depths[k] === base && tokens.isOp(k, 59)) return k;
    return tokens.count;
  }

  /** For a compound header starting at t, the index of its closing `:` (or -1); a lambda's `:` is not it. */
  private headerColon(t: number, end: number): number {
    const tokens = this.tokens;
    let lambdas = 0;
    const base = tokens.depths[t];
    for (let k = t + 1; k < end; k++) {
      if (tokens.depths[k] !== base) continue;
      if (tokens.isName(k, 'lambda')) lambdas++;
      else if (tokens.isOp(k, 58)) {
        if (lambdas === 0) return k;
        lambdas--;
      }
    }
    return -1;
  }

  /** A dotted name from t (`a.b.c`) and the index after it; '' when t holds no name. */
  private readDotted(t: number, end: number): [string, number] {
    const tokens = this.tokens;
    let name = '';
    let k = t;
    while (k < end && tokens.kinds[k] === T_NAME) {
      name += tokens.text(k);
      if (k + 1 < end && tokens.isOp(k + 1, 46) && k + 2 < end && tokens.kinds[k + 2] === T_NAME) {
        name += '.';
        k += 2;
      } else {
        k++;
        break;
      }
    }
    return [name, k];
  }

  /** `import a, b.c as d` */
  private readImport(t: number, end: number): void {
    const tokens = this.tokens;
    const kind = this.blocks.importKind();
    const at = tokens.lines[t];
    let k = t + 1;
    while (k < end) {
      const [name, next] = this.readDotted(k, end);
      if (!name) {
        k++;
        continue;
      }
      k = next;
      // `import a.b` binds `a`, not the imported module: no use count then.
      let local: string | null = name.includes('.') ? null : name;
      if (k + 1 < end && tokens.isName(k, 'as')) {
        local = tokens.text(k + 1);
        k += 2;
      }
      this.bindings.bind(local, { name, level: 0, kind, line: at, uses: null });
      if (k < end && tokens.isOp(k, 44)) k++;
    }
  }

  /** `from ..a.b import (c, d as e)` and `from a import *` */
  private readFrom(t: number, end: number): void {
    const tokens = this.tokens;
    const kind = this.blocks.importKind();
    const at = tokens.lines[t];
    let k = t + 1;
    let level = 0;
    while (k < end && tokens.isOp(k, 46)) {
      level++;
      k++;
    }
    let base = '';
    if (!tokens.isName(k, 'import')) [base, k] = this.readDotted(k, end);
    if (k >= end || !tokens.isName(k, 'import')) return; // not an import (tolerated: broken source)
    k++;
    const prefix = base ? `${base}.` : '';
    while (k < end) {
      if (tokens.isOp(k, 40) || tokens.isOp(k, 41) || tokens.isOp(k, 44)) {
        k++;
        continue;
      }
      if (tokens.isOp(k, 42)) {
        this.bindings.bind(null, { name: base, level, kind, line: at, uses: null, star: true });
        k++;
        continue;
      }
      if (tokens.kinds[k] === T_NAME) {
        const name = prefix + tokens.text(k);
        let local = tokens.text(k);
        k++;
        if (k + 1 < end && tokens.isName(k, 'as')) {
          local = tokens.text(k + 1);
          k += 2;
        }
        this.bindings.bind(local, { name, level, kind, line: at, uses: null });
        continue;
      }
      k++;
    }
  }
}
