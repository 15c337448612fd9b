/**
 * The tokenizer half of the Python import scan (python-imports.ts holds the
 * statement reader): a state machine over char codes that knows strings
 * (triple-quoted, prefixed, f-strings with nested fields), comments, brackets
 * and backslash continuations, and hands out one logical line at a time.
 * It never throws: what it cannot make sense of becomes a problem with a line.
 */

export const T_NAME = 1;
const T_OP = 2;
const T_STRING = 3;
const T_NUMBER = 4;

export interface SourceProblem {
  line: number;
  message: string;
}

const STRING_PREFIXES = new Set(['r', 'u', 'b', 'f', 't', 'br', 'rb', 'fr', 'rf', 'ur', 'tr', 'rt']);

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128;
}
function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

/**
 * The tokens of one logical line as parallel arrays of offsets, reused from
 * line to line so that scanning a large tree allocates no token objects and
 * slices no text until the statement reader asks for it.
 */
export class LogicalLine {
  readonly kinds: number[] = [];
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  /** Physical line where each token starts. */
  readonly lines: number[] = [];
  /** Bracket depth at each token (a closing bracket carries the depth after it). */
  readonly depths: number[] = [];
  count = 0;
  /** Indentation column of the line's first token (tabs to the next multiple of 8). */
  indent = 0;

  constructor(readonly src: string) {}

  text(t: number): string {
    return this.src.slice(this.starts[t], this.ends[t]);
  }
  isName(t: number, word: string): boolean {
    return (
      this.kinds[t] === T_NAME &&
      this.ends[t] - this.starts[t] === word.length &&
      this.src.startsWith(word, this.starts[t])
    );
  }
  isOp(t: number, code: number): boolean {
    return (
      this.kinds[t] === T_OP &&
      this.ends[t] - this.starts[t] === 1 &&
      this.src.charCodeAt(this.starts[t]) === code
    );
  }
}

export class PythonTokenizer {
  readonly tokens: LogicalLine;
  readonly problems: SourceProblem[] = [];
  /** String literals long enough to hold SQL, as flat [start, end, line] triples. */
  readonly strings: number[] = [];
  /** Lines of code: physical lines where a token starts, plus the lines a multi-line string spans. */
  loc = 0;
  private lastLocLine = 0;
  private readonly src: string;
  private readonly n: number;
  private i = 0;
  private line = 1;
  private depth = 0;
  private atLineStart = true;
  private ended = false;

  constructor(src: string) {
    this.src = src;
    this.n = src.length;
    this.tokens = new LogicalLine(src);
  }

  /**
   * Fill `tokens` with the next logical line that holds a token; false at the
   * end of the file. Newlines inside brackets and after a backslash do not end
   * a logical line, so a parenthesised import list reads as one statement.
   */
  nextLogicalLine(): boolean {
    const src = this.src;
    const n = this.n;
    this.tokens.count = 0;
    // Char codes, for speed: 9 tab, 10 LF, 12 form feed, 13 CR, 32 space, 34 ", 35 #, 39 ', 46 ., 92 backslash.
    while (this.i < n) {
      if (this.atLineStart && this.depth === 0 && !this.startLine()) continue;
      const i = this.i;
      const c = src.charCodeAt(i);
      if (c === 32 || c === 9 || c === 12) {
        this.i++;
      } else if (c === 10 || c === 13) {
        this.i += c === 13 && src.charCodeAt(i + 1) === 10 ? 2 : 1;
        this.line++;
        if (this.depth === 0) {
          this.atLineStart = true;
          if (this.tokens.count > 0) return true;
        }
      } else if (c === 35) {
        this.i = this.endOfPhysicalLine(i);
      } else if (c === 92) {
        this.readBackslash(i);
      } else if (c === 39 || c === 34) {
        this.readString(i, i, false);
      } else if (isIdentStart(c)) {
        this.readWord(i);
      } else if (
        (c >= 48 && c <= 57) ||
        (c === 46 && src.charCodeAt(i + 1) >= 48 && src.charCodeAt(i + 1) <= 57)
      ) {
        this.readNumber(i);
      } else {
        this.readOperator(i, c);
      }
    }
    return this.endOfFile();
  }

  /**
   * At the start of a physical line outside brackets: measure its indentation,
   * or step over it when blank or comment-only (such lines never open or close
   * a block). Returns false when the caller must look again from `i`.
   */
  private startLine(): boolean {
    const src = this.src;
    let i = this.i;
    let col = 0;
    while (i < this.n) {
      const c = src.charCodeAt(i);
      if (c === 32) col++;
      else if (c === 9) col = (col & ~7) + 8;
      else if (c === 12) col = 0;
      else break;
      i++;
    }
    this.i = i;
    if (i >= this.n) return false;
    const c = src.charCodeAt(i);
    if (c === 35 || c === 10 || c === 13) {
      i = this.endOfPhysicalLine(i);
      if (src.charCodeAt(i) === 13 && src.charCodeAt(i + 1) === 10) i++;
      this.i = i + 1;
      this.line++;
      return false;
    }
    this.tokens.indent = col;
    this.atLineStart = false;
    return true;
  }

  /** The offset of the newline (CR or LF) that ends the physical line holding `i`, or the end of the text. */
  private endOfPhysicalLine(i: number): number {
    const src = this.src;
    while (i < this.n && src.charCodeAt(i) !== 10 && src.charCodeAt(i) !== 13) i++;
    return i;
  }

  /** The end of the text ends the last logical line; brackets still open then are a problem, reported once. */
  private endOfFile(): boolean {
    if (this.ended) return false;
    this.ended = true;
    if (this.depth > 0)
      this.problems.push({ line: this.line, message: `${this.depth} unclosed bracket(s) at end of file` });
    return this.tokens.count > 0;
  }

  /** A backslash before a newline joins the next physical line to this logical line; anywhere else it is an operator. */
  private readBackslash(i: number): void {
    const d = this.src.charCodeAt(i + 1);
    if (d === 10 || d === 13) {
      this.i = i + (d === 13 && this.src.charCodeAt(i + 2) === 10 ? 3 : 2);
      this.line++;
    } else {
      this.push(T_OP, i, i + 1);
      this.i = i + 1;
    }
  }

  /** A name, or the prefix of a string (`rb"..."`, `f'...'`) when a quote follows at once. */
  private readWord(s: number): void {
    const src = this.src;
    let i = s + 1;
    while (i < this.n && isIdentChar(src.charCodeAt(i))) i++;
    const q = src.charCodeAt(i);
    const prefix = (q === 39 || q === 34) && i - s <= 2 ? src.slice(s, i).toLowerCase() : '';
    if (prefix && STRING_PREFIXES.has(prefix)) {
      // t-strings (PEP 750) hold replacement fields just as f-strings do.
      this.readString(s, i, prefix.includes('f') || prefix.includes('t'));
    } else {
      this.push(T_NAME, s, i);
      this.i = i;
    }
  }

  private readNumber(s: number): void {
    const src = this.src;
    let i = s + 1;
    while (i < this.n) {
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
    this.push(T_NUMBER, s, i);
    this.i = i;
  }

  /** Brackets move the depth that keeps a logical line open; a stray closer is a problem but still a token. */
  private readOperator(i: number, c: number): void {
    if (c === 40 || c === 91 || c === 123) {
      this.push(T_OP, i, i + 1);
      this.depth++;
      this.i = i + 1;
    } else if (c === 41 || c === 93 || c === 125) {
      if (this.depth === 0)
        this.problems.push({ line: this.line, message: `unmatched '${String.fromCharCode(c)}'` });
      else this.depth--;
      this.push(T_OP, i, i + 1);
      this.i = i + 1;
    } else if (c === 58 && this.src.charCodeAt(i + 1) === 61) {
      this.push(T_OP, i, i + 2); // walrus: never a header colon
      this.i = i + 2;
    } else {
      this.push(T_OP, i, i + 1);
      this.i = i + 1;
    }
  }

  private push(kind: number, s: number, e: number): void {
    if (this.line !== this.lastLocLine) {
      this.loc++;
      this.lastLocLine = this.line;
    }
    this.append(kind, s, e, this.line);
  }

  private append(kind: number, s: number, e: number, line: number): void {
    const tokens = this.tokens;
    const t = tokens.count++;
    tokens.kinds[t] = kind;
    tokens.starts[t] = s;
    tokens.ends[t] = e;
    tokens.lines[t] = line;
    tokens.depths[t] = this.depth;
  }

  /**
   * A string token from its prefix at `s` (the quote itself when unprefixed)
   * to its closing quote. Every line it spans counts as a line of code, and a
   * long one is kept for the SQL reader (python-facts.ts).
   */
  private readString(s: number, quote: number, fstring: boolean): void {
    const startLine = this.line;
    const e = this.skipString(quote, fstring);
    this.i = e;
    if (e - s >= 16) this.strings.push(s, e, startLine);
    if (startLine !== this.lastLocLine) this.loc++;
    this.loc += this.line - startLine;
    this.lastLocLine = this.line;
    this.append(T_STRING, s, e, startLine);
  }

  /** Skip a string whose opening quote is at `q`; returns the index after it. Counts newlines. */
  private skipString(q: number, fstring: boolean): number {
    const src = this.src;
    const n = this.n;
    const quote = src.charCodeAt(q);
    const triple = src.charCodeAt(q + 1) === quote && src.charCodeAt(q + 2) === quote;
    const startLine = this.line;
    let j = q + (triple ? 3 : 1);
    while (j < n) {
      const c = src.charCodeAt(j);
      if (c === 92) {
        // A backslash escapes the next char even in raw strings (r"\"" is one string).
        if (src.charCodeAt(j + 1) === 10) this.line++;
        else if (src.charCodeAt(j + 1) === 13) {
          this.line++;
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
          this.problems.push({ line: startLine, message: 'unterminated string literal' });
          return j; // the newline then ends the logical line as Python's tokenizer would after an error
        }
        this.line++;
        if (c === 13 && src.charCodeAt(j + 1) === 10) j++;
        j++;
        continue;
      }
      if (fstring && c === 123) {
        if (src.charCodeAt(j + 1) === 123) {
          j += 2;
          continue;
        }
        j = this.skipReplacementField(j + 1);
        continue;
      }
      j++;
    }
    this.problems.push({
      line: startLine,
      message: triple ? 'unterminated triple-quoted string' : 'unterminated string',
    });
    return n;
  }

  /**
   * Skip an f-string replacement field from just after its `{` to just after
   * the matching `}`. Python 3.12 allows any quotes inside (PEP 701), so
   * nested strings are skipped recursively; a top-level `:` starts the format
   * spec, which is literal text that may hold nested fields.
   */
  private skipReplacementField(from: number): number {
    const src = this.src;
    const n = this.n;
    let j = from;
    let d = 0;
    while (j < n) {
      const c = src.charCodeAt(j);
      if (c === 39 || c === 34) {
        j = this.skipString(j, this.prefixIsF(j));
        continue;
      }
      if (c === 10) this.line++;
      if (c === 40 || c === 91 || c === 123) d++;
      else if (c === 41 || c === 93) d--;
      else if (c === 125) {
        if (d === 0) return j + 1;
        d--;
      } else if (d === 0 && c === 33 && src.charCodeAt(j + 1) !== 61) {
        j += 2; // !r / !s / !a conversion
        continue;
      } else if (d === 0 && c === 58 && src.charCodeAt(j + 1) !== 61) {
        return this.skipFormatSpec(j + 1);
      }
      j++;
    }
    return n;
  }

  /** A format spec is literal text up to the closing brace of its field, with nested fields allowed (`{x:>{width}}`). */
  private skipFormatSpec(from: number): number {
    const src = this.src;
    let j = from;
    while (j < this.n) {
      const s = src.charCodeAt(j);
      if (s === 125) return j + 1;
      if (s === 123) {
        j = this.skipReplacementField(j + 1);
        continue;
      }
      if (s === 10) this.line++;
      j++;
    }
    return this.n;
  }

  /** Is the quote at `q` preceded by a string prefix containing f? */
  private prefixIsF(q: number): boolean {
    const src = this.src;
    let k = q - 1;
    while (k >= 0 && k >= q - 2 && isIdentChar(src.charCodeAt(k))) {
      const c = src.charCodeAt(k) | 32;
      if (c === 102) return true;
      k--;
    }
    return false;
  }
}
