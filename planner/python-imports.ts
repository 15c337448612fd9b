/**
 * Finds the import statements of one Python source file without running it:
 * a hand-written tokenizer (a state machine over char codes that knows
 * strings, comments, brackets and line continuations) feeds logical lines to a
 * small statement reader that tracks indentation blocks, so every import is
 * found with its kind (top, function, conditional, try, type_checking) and
 * line. It tolerates Python 2 (`print x`, `except E, e`, backticks, `ur''`)
 * and reports, rather than throws on, source it cannot make sense of.
 */
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
  problems: Array<{ line: number; message: string }>;
  /** String literals long enough to hold SQL, as flat [start, end, line] triples (offsets into the text without a BOM). */
  strings: number[];
}

const T_NAME = 1;
const T_OP = 2;
const T_STRING = 3;
const T_NUMBER = 4;

// Block kinds pushed for compound statements; 'plain' blocks (class, with)
// keep module-level semantics because their bodies run at import time.
type BlockKind = ImportKind | 'plain';
interface Block {
  indent: number;
  kind: BlockKind;
  /** The statement keyword that opened it (if, try, def...): decides what a following else means. */
  keyword: string;
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

const STRING_PREFIXES = new Set(['r', 'u', 'b', 'f', 't', 'br', 'rb', 'fr', 'rf', 'ur', 'tr', 'rt']);

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128;
}
function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

/** Scan one file's text. Never throws on malformed input. */
export function scanPythonSource(source: string): SourceScan {
  // A UTF-8 byte order mark is not part of the first line (Python's tokenizer drops it; PEP 263).
  const src = source.charCodeAt(0) === 0xfeff ? source.slice(1) : source;
  const imports: RawImport[] = [];
  const problems: Array<{ line: number; message: string }> = [];
  const n = src.length;
  let i = 0;
  let line = 1;
  let depth = 0;

  // Tokens of the current logical line (parallel arrays, reused).
  const kinds: number[] = [];
  const starts: number[] = [];
  const ends: number[] = [];
  const lines: number[] = [];
  const depths: number[] = [];
  let ntok = 0;
  let lineIndent = 0;
  let atLineStart = true;
  const blocks: Block[] = [];
  // Local names bound by imports -> the imports binding them, and reference counts.
  const bound = new Map<string, RawImport[]>();
  const useCounts = new Map<string, number>();
  // Cheap pre-filters (first char, length) so most identifiers are never sliced into strings.
  const boundFirst = new Uint8Array(128);
  const boundLength = new Uint8Array(64);
  const bind = (local: string | null, imp: RawImport): void => {
    imports.push(imp);
    if (local === null) return;
    imp.local = local;
    const list = bound.get(local);
    if (list) list.push(imp);
    else bound.set(local, [imp]);
    if (!useCounts.has(local)) useCounts.set(local, 0);
    const c = local.charCodeAt(0);
    boundFirst[c < 128 ? c : 127] = 1;
    boundLength[local.length < 64 ? local.length : 63] = 1;
  };
  let lastClosed: Block | null = null;

  // Lines of code: physical lines where a token starts, plus the lines a multi-line string spans.
  let loc = 0;
  let lastLocLine = 0;
  const push = (kind: number, s: number, e: number, d: number): void => {
    if (line !== lastLocLine) {
      loc++;
      lastLocLine = line;
    }
    kinds[ntok] = kind;
    starts[ntok] = s;
    ends[ntok] = e;
    lines[ntok] = line;
    depths[ntok] = d;
    ntok++;
  };
  const strings: number[] = [];
  const pushString = (s: number, e: number, startLine: number): void => {
    if (e - s >= 16) strings.push(s, e, startLine);
    if (startLine !== lastLocLine) loc++;
    loc += line - startLine;
    lastLocLine = line;
    kinds[ntok] = T_STRING;
    starts[ntok] = s;
    ends[ntok] = e;
    lines[ntok] = startLine;
    depths[ntok] = depth;
    ntok++;
  };
  const text = (t: number): string => src.slice(starts[t], ends[t]);
  const isName = (t: number, word: string): boolean =>
    kinds[t] === T_NAME && ends[t] - starts[t] === word.length && src.startsWith(word, starts[t]);
  const isOp = (t: number, code: number): boolean =>
    kinds[t] === T_OP && ends[t] - starts[t] === 1 && src.charCodeAt(starts[t]) === code;

  /** Skip a string whose opening quote is at `q`; returns the index after it. Counts newlines. */
  const skipString = (q: number, fstring: boolean): number => {
    const quote = src.charCodeAt(q);
    const triple = src.charCodeAt(q + 1) === quote && src.charCodeAt(q + 2) === quote;
    const startLine = line;
    let j = q + (triple ? 3 : 1);
    while (j < n) {
      const c = src.charCodeAt(j);
      if (c === 92) {
        // A backslash escapes the next char even in raw strings (r"\"" is one string).
        if (src.charCodeAt(j + 1) === 10) line++;
        else if (src.charCodeAt(j + 1) === 13) {
          line++;
          if (src.charCodeAt(j + 2) === 10) j++;
        }
        j += 2;
        continue;
      }
      if (c === quote) {
        if (!triple) return j + 1;
        if (src.charCodeAt(j + 1) === quote && src.charCodeAt(j + 2) === quote) return j + 3;
        j++;
        continue;
      }
      if (c === 10 || c === 13) {
        if (!triple) {
          problems.push({ line: startLine, message: 'unterminated string literal' });
          return j; // the newline then ends the logical line as Python's tokenizer would after an error
        }
        line++;
        if (c === 13 && src.charCodeAt(j + 1) === 10) j++;
        j++;
        continue;
      }
      if (fstring && c === 123) {
        if (src.charCodeAt(j + 1) === 123) {
          j += 2;
          continue;
        }
        j = skipReplacementField(j + 1);
        continue;
      }
      j++;
    }
    problems.push({
      line: startLine,
      message: triple ? 'unterminated triple-quoted string' : 'unterminated string',
    });
    return n;
  };

  /**
   * Skip an f-string replacement field from just after its `{` to just after
   * the matching `}`. Python 3.12 allows any quotes inside (PEP 701), so
   * nested strings are skipped recursively; a top-level `:` starts the format
   * spec, which is literal text that may hold nested fields.
   */
  const skipReplacementField = (from: number): number => {
    let j = from;
    let d = 0;
    while (j < n) {
      const c = src.charCodeAt(j);
      if (c === 39 || c === 34) {
        j = skipString(j, prefixIsF(j));
        continue;
      }
      if (c === 10) line++;
      if (c === 40 || c === 91 || c === 123) d++;
      else if (c === 41 || c === 93) d--;
      else if (c === 125) {
        if (d === 0) return j + 1;
        d--;
      } else if (d === 0 && c === 33 && src.charCodeAt(j + 1) !== 61) {
        j += 2; // !r / !s / !a conversion
        continue;
      } else if (d === 0 && c === 58 && src.charCodeAt(j + 1) !== 61) {
        // format spec: literal text up to the closing brace, nested fields allowed
        j++;
        while (j < n) {
          const s = src.charCodeAt(j);
          if (s === 125) return j + 1;
          if (s === 123) {
            j = skipReplacementField(j + 1);
            continue;
          }
          if (s === 10) line++;
          j++;
        }
        return n;
      }
      j++;
    }
    return n;
  };

  /** Is the quote at `q` preceded by a string prefix containing f? */
  const prefixIsF = (q: number): boolean => {
    let k = q - 1;
    while (k >= 0 && k >= q - 2 && isIdentChar(src.charCodeAt(k))) {
      const c = src.charCodeAt(k) | 32;
      if (c === 102) return true;
      k--;
    }
    return false;
  };

  const endLogicalLine = (): void => {
    if (ntok > 0) processLogicalLine();
    ntok = 0;
    atLineStart = true;
  };

  // --- statement reader over one logical line's tokens -------------------

  const importKind = (): ImportKind => {
    let tryOrCond: ImportKind | null = null;
    let fn = false;
    for (const b of blocks) {
      if (b.kind === 'type_checking') return 'type_checking';
      if (b.kind === 'function') fn = true;
      else if (b.kind === 'try' || b.kind === 'conditional') tryOrCond = b.kind;
    }
    return fn ? 'function' : (tryOrCond ?? 'top');
  };

  /** Index of the statement end (`;` at depth 0 or end of line) from t. */
  const statementEnd = (t: number): number => {
    const base = depths[t];
    for (let k = t; k < ntok; k++) if (depths[k] === base && isOp(k, 59)) return k;
    return ntok;
  };

  const readDotted = (t: number, end: number): [string, number] => {
    let name = '';
    let k = t;
    while (k < end && kinds[k] === T_NAME) {
      name += text(k);
      if (k + 1 < end && isOp(k + 1, 46) && k + 2 < end && kinds[k + 2] === T_NAME) {
        name += '.';
        k += 2;
      } else {
        k++;
        break;
      }
    }
    return [name, k];
  };

  const readImport = (t: number, end: number): void => {
    const kind = importKind();
    const at = lines[t];
    let k = t + 1;
    while (k < end) {
      const [name, next] = readDotted(k, end);
      if (!name) {
        k++;
        continue;
      }
      k = next;
      // `import a.b` binds `a`, not the imported module: no use count then.
      let local: string | null = name.includes('.') ? null : name;
      if (k + 1 < end && isName(k, 'as')) {
        local = text(k + 1);
        k += 2;
      }
      bind(local, { name, level: 0, kind, line: at, uses: null });
      if (k < end && isOp(k, 44)) k++;
    }
  };

  const readFrom = (t: number, end: number): void => {
    const kind = importKind();
    const at = lines[t];
    let k = t + 1;
    let level = 0;
    while (k < end && isOp(k, 46)) {
      level++;
      k++;
    }
    let base = '';
    if (!isName(k, 'import')) [base, k] = readDotted(k, end);
    if (k >= end || !isName(k, 'import')) return; // not an import (tolerated: broken source)
    k++;
    const prefix = base ? `${base}.` : '';
    while (k < end) {
      if (isOp(k, 40) || isOp(k, 41) || isOp(k, 44)) {
        k++;
        continue;
      }
      if (isOp(k, 42)) {
        bind(null, { name: base, level, kind, line: at, uses: null, star: true });
        k++;
        continue;
      }
      if (kinds[k] === T_NAME) {
        const name = prefix + text(k);
        let local = text(k);
        k++;
        if (k + 1 < end && isName(k, 'as')) {
          local = text(k + 1);
          k += 2;
        }
        bind(local, { name, level, kind, line: at, uses: null });
        continue;
      }
      k++;
    }
  };

  /** For a compound header starting at t, the index of its closing `:` (or -1). */
  const headerColon = (t: number, end: number): number => {
    let lambdas = 0;
    const base = depths[t];
    for (let k = t + 1; k < end; k++) {
      if (depths[k] !== base) continue;
      if (isName(k, 'lambda')) lambdas++;
      else if (isOp(k, 58)) {
        if (lambdas === 0) return k;
        lambdas--;
      }
    }
    return -1;
  };

  const isTypeCheckingTest = (t: number, colon: number): boolean => {
    // `if TYPE_CHECKING:` or `if typing.TYPE_CHECKING:` (any module alias)
    return colon > t + 1 && isName(colon - 1, 'TYPE_CHECKING') && (colon === t + 2 || isOp(colon - 2, 46));
  };

  const openBlock = (t: number, colon: number): void => {
    let k = t;
    if (isName(k, 'async')) k++;
    const kw = text(k);
    let kind: BlockKind;
    switch (kw) {
      case 'def':
        kind = 'function';
        break;
      case 'class':
      case 'with':
        kind = 'plain';
        break;
      case 'try':
      case 'except':
      case 'finally':
        kind = 'try';
        break;
      case 'if':
        kind = isTypeCheckingTest(k, colon) ? 'type_checking' : 'conditional';
        break;
      case 'else':
        // try/else runs as part of the try statement; if/for/while else is a branch.
        kind =
          lastClosed && lastClosed.indent === lineIndent && lastClosed.kind === 'try' ? 'try' : 'conditional';
        break;
      default:
        kind = 'conditional'; // elif, while, for, match, case
    }
    blocks.push({ indent: lineIndent, kind, keyword: kw });
  };

  /** Count references to import-bound names in tokens [t, end), skipping attribute names (`x.block`). */
  const countUses = (t: number, end: number): void => {
    if (bound.size === 0) return;
    for (let k = t; k < end; k++) {
      if (kinds[k] !== T_NAME) continue;
      const first = src.charCodeAt(starts[k]);
      const len = ends[k] - starts[k];
      if (
        !boundFirst[first < 128 ? first : 127] ||
        !boundLength[len < 64 ? len : 63] ||
        (k > 0 && isOp(k - 1, 46))
      )
        continue;
      const name = text(k);
      const c = useCounts.get(name);
      if (c !== undefined) useCounts.set(name, c + 1);
    }
  };

  const processLogicalLine = (): void => {
    lastClosed = null;
    while (blocks.length > 0 && blocks[blocks.length - 1].indent >= lineIndent) lastClosed = blocks.pop()!;
    let t = 0;
    while (t < ntok) {
      const end = statementEnd(t);
      if (kinds[t] !== T_NAME) {
        countUses(t, end);
        t = end + 1;
        continue;
      }
      const word = text(t);
      if (word === 'import') {
        readImport(t, end);
        t = end + 1;
      } else if (word === 'from') {
        readFrom(t, end);
        t = end + 1;
      } else if (COMPOUND.has(word) || ((word === 'match' || word === 'case') && isOp(ntok - 1, 58))) {
        const colon = headerColon(t, ntok);
        if (colon < 0) {
          countUses(t, end);
          t = end + 1;
          continue;
        }
        countUses(t, colon);
        openBlock(t, colon);
        // A body on the header's own line (`try: import x`) is read in the new block.
        t = colon + 1;
      } else {
        countUses(t, end);
        t = end + 1;
      }
    }
  };

  // --- tokenizer ------------------------------------------------------------

  while (i < n) {
    if (atLineStart && depth === 0) {
      // Measure indentation; tabs go to the next multiple of 8 as in Python.
      let col = 0;
      while (i < n) {
        const c = src.charCodeAt(i);
        if (c === 32) col++;
        else if (c === 9) col = (col & ~7) + 8;
        else if (c === 12) col = 0;
        else break;
        i++;
      }
      if (i >= n) break;
      const c = src.charCodeAt(i);
      if (c === 35 || c === 10 || c === 13) {
        // blank or comment-only line: no effect on indentation
        while (i < n && src.charCodeAt(i) !== 10 && src.charCodeAt(i) !== 13) i++;
        if (src.charCodeAt(i) === 13 && src.charCodeAt(i + 1) === 10) i++;
        i++;
        line++;
        continue;
      }
      lineIndent = col;
      atLineStart = false;
    }
    const c = src.charCodeAt(i);
    if (c === 32 || c === 9 || c === 12) {
      i++;
    } else if (c === 10 || c === 13) {
      if (c === 13 && src.charCodeAt(i + 1) === 10) i++;
      i++;
      if (depth === 0) endLogicalLine();
      line++;
    } else if (c === 35) {
      while (i < n && src.charCodeAt(i) !== 10 && src.charCodeAt(i) !== 13) i++;
    } else if (c === 92) {
      const d = src.charCodeAt(i + 1);
      if (d === 10 || d === 13) {
        i += d === 13 && src.charCodeAt(i + 2) === 10 ? 3 : 2;
        line++;
      } else {
        push(T_OP, i, i + 1, depth);
        i++;
      }
    } else if (c === 39 || c === 34) {
      const s = i;
      const startLine = line;
      i = skipString(i, false);
      pushString(s, i, startLine);
    } else if (isIdentStart(c)) {
      const s = i;
      i++;
      while (i < n && isIdentChar(src.charCodeAt(i))) i++;
      const q = src.charCodeAt(i);
      if ((q === 39 || q === 34) && i - s <= 2 && STRING_PREFIXES.has(src.slice(s, i).toLowerCase())) {
        const startLine = line;
        const f = src.slice(s, i).toLowerCase();
        i = skipString(i, f.includes('f') || f.includes('t'));
        pushString(s, i, startLine);
      } else {
        push(T_NAME, s, i, depth);
      }
    } else if (
      (c >= 48 && c <= 57) ||
      (c === 46 && src.charCodeAt(i + 1) >= 48 && src.charCodeAt(i + 1) <= 57)
    ) {
      const s = i;
      i++;
      while (i < n) {
        const d = src.charCodeAt(i);
        if (isIdentChar(d) || d === 46) i++;
        else if (
          (d === 43 || d === 45) &&
          (src.charCodeAt(i - 1) | 32) === 101 &&
          (src.charCodeAt(s + 1) | 32) !== 120
        )
          i++; // exponent sign (not in hex literals)
        else break;
      }
      push(T_NUMBER, s, i, depth);
    } else if (c === 40 || c === 91 || c === 123) {
      push(T_OP, i, i + 1, depth);
      depth++;
      i++;
    } else if (c === 41 || c === 93 || c === 125) {
      if (depth === 0) problems.push({ line, message: `unmatched '${String.fromCharCode(c)}'` });
      else depth--;
      push(T_OP, i, i + 1, depth);
      i++;
    } else if (c === 58 && src.charCodeAt(i + 1) === 61) {
      push(T_OP, i, i + 2, depth); // walrus: never a header colon
      i += 2;
    } else {
      push(T_OP, i, i + 1, depth);
      i++;
    }
  }
  if (depth > 0) problems.push({ line, message: `${depth} unclosed bracket(s) at end of file` });
  endLogicalLine();
  for (const [local, list] of bound) for (const imp of list) imp.uses = useCounts.get(local) ?? 0;
  return { imports, loc, problems, strings };
}
