/**
 * JSON for comparison without losing numbers. JSON.parse turns
 * 12345678901234567891 into 12345678901234567000, so two services that send
 * different 64-bit ids would compare equal. Only integers are compared
 * exactly (canonicalNumber; other numbers compare as the doubles consumers
 * see), and an integer a double cannot hold (past 2^53) has at least 16 digits
 * in a row. So a text with no run of 16 digits anywhere (strings included)
 * and no three-digit exponent goes through the fast native JSON.parse, even
 * when it holds a fraction like 1234567890.1234567 that a double rounds; the
 * rest go through parseJson below, which keeps a risky number's source text
 * as a JsonNumber. Either way the result is plain JS values, so the diff walks
 * one representation.
 */

export class JsonNumber {
  constructor(readonly text: string) {}
}

export type JsonValue =
  | null
  | boolean
  | string
  | number
  | JsonNumber
  | JsonValue[]
  | { [k: string]: JsonValue };
export type JsonKind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

export function jsonKind(v: JsonValue): JsonKind {
  if (v === null) return 'null';
  const t = typeof v;
  if (t === 'boolean' || t === 'string' || t === 'number') return t as JsonKind;
  if (v instanceof JsonNumber) return 'number';
  if (Array.isArray(v)) return 'array';
  return 'object';
}

const RISKY_NUMBER = /\d{16}|[eE][+-]?\d{3}/;

/** Parse JSON exactly: native JSON.parse when no number can lose precision, else the text-keeping parser. */
export function parseJsonExact(text: string): JsonValue {
  if (!RISKY_NUMBER.test(text)) return JSON.parse(text) as JsonValue;
  return parseJson(text);
}

/** The text of a number for exact comparison. */
export function numberText(v: number | JsonNumber): string {
  if (typeof v !== 'number') return canonicalNumber(v.text);
  // 1e21 from a short text and 1000000000000000000000 kept as text are one number.
  return Number.isInteger(v) && !Number.isSafeInteger(v) && Number.isFinite(v)
    ? BigInt(v).toString()
    : String(v);
}

/** A number's text that is safe to turn into a double (≤ 15 significant digits, small exponent). */
function safeNumber(text: string): boolean {
  return !RISKY_NUMBER.test(text);
}

const INT_TEXT = /^-?\d+(?:\.0+)?$/;

/**
 * A canonical form for number comparison: integers (also `1.0`, which Python
 * writes for floats) compare exactly as big integers; other numbers compare as
 * doubles, which is what every consumer would see anyway.
 */
export function canonicalNumber(text: string): string {
  if (INT_TEXT.test(text)) {
    const int = text.split('.')[0];
    return BigInt(int).toString();
  }
  const n = Number(text);
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) return text.toLowerCase(); // 1e400 and friends: keep text
  return String(n);
}

export class JsonSyntaxError extends Error {}

/** Parse JSON text; throws JsonSyntaxError on anything RFC 8259 rejects. */
export function parseJson(text: string): JsonValue {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at offset ${i}`);
  };
  const NUM = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const STR_PLAIN = /[^"\\\u0000-\u001f]*/y;
  const parseString = (): string => {
    i++; // opening quote
    let out = '';
    for (;;) {
      STR_PLAIN.lastIndex = i;
      const m = STR_PLAIN.exec(text)!;
      out += m[0];
      i += m[0].length;
      if (i >= n) fail('unterminated string');
      const c = text[i];
      if (c === '"') {
        i++;
        return out;
      }
      if (c !== '\\') fail('control character in string');
      const e = text[i + 1];
      i += 2;
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          const hex = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(Number.parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          fail('bad escape');
      }
    }
  };
  const value = (depth: number): JsonValue => {
    if (depth > 512) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      // A null-prototype object: "__proto__" is a key like any other.
      const obj: { [k: string]: JsonValue } = Object.create(null);
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const k = parseString();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        obj[k] = value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const arr: JsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    NUM.lastIndex = i;
    const m = NUM.exec(text);
    if (!m || m[0].length === 0) fail('unexpected token');
    i += m![0].length;
    return safeNumber(m![0]) ? Number(m![0]) : new JsonNumber(m![0]);
  };
  // A UTF-8 BOM is not JSON (RFC 8259 §8.1) but is common; tolerate it.
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  const v = value(0);
  ws();
  if (i !== n) fail('trailing data');
  return v;
}

/** JSON text of a parsed value (numbers as they were sent), cut at `max` characters. */
export function stringifyJson(v: JsonValue, max = 2000): string {
  let out = '';
  const go = (x: JsonValue): boolean => {
    if (out.length > max) return false;
    if (x === null || typeof x === 'boolean') out += String(x);
    else if (typeof x === 'string') out += JSON.stringify(x);
    else if (typeof x === 'number') out += String(x);
    else if (x instanceof JsonNumber) out += x.text;
    else if (Array.isArray(x)) {
      out += '[';
      for (let k = 0; k < x.length; k++) {
        if (k) out += ',';
        if (!go(x[k])) return false;
      }
      out += ']';
    } else {
      out += '{';
      let first = true;
      for (const k of Object.keys(x)) {
        const val = x[k];
        if (!first) out += ',';
        first = false;
        out += JSON.stringify(k) + ':';
        if (!go(val)) return false;
      }
      out += '}';
    }
    return true;
  };
  go(v);
  return out.length > max ? out.slice(0, max) + '…' : out;
}

/** An order-insensitive canonical text, for "same elements, other order" checks. */
export function canonicalJson(v: JsonValue): string {
  if (v === null || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || v instanceof JsonNumber) return numberText(v);
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  const keys = Object.keys(v).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(v[k])).join(',') + '}';
}
