/**
 * Pretty-printed JSON with each line tagged by its JSON path (the same
 * spelling shadow/paths.ts uses: `$.items[3].name`, `$["content-type"]`), so
 * the differing path of a shadow pair can be marked on both sides.
 */
import { h } from './dom.js';

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const keySeg = (k) => (IDENT.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);

/** Lines of `JSON.stringify(v, null, 2)`, each with the path of the value it opens, closes or holds. */
function lines(v, path, indent, prefix, out, last) {
  const pad = '  '.repeat(indent);
  const comma = last ? '' : ',';
  if (v !== null && typeof v === 'object') {
    const isArr = Array.isArray(v);
    const entries = isArr ? v.map((x, i) => [i, x]) : Object.entries(v);
    if (entries.length === 0) {
      out.push({ path, text: `${pad}${prefix}${isArr ? '[]' : '{}'}${comma}` });
      return;
    }
    out.push({ path, text: `${pad}${prefix}${isArr ? '[' : '{'}` });
    entries.forEach(([k, x], i) => {
      const p = isArr ? `${path}[${k}]` : `${path}${keySeg(k)}`;
      lines(x, p, indent + 1, isArr ? '' : `${JSON.stringify(k)}: `, out, i === entries.length - 1);
    });
    out.push({ path, text: `${pad}${isArr ? ']' : '}'}${comma}` });
    return;
  }
  out.push({ path, text: `${pad}${prefix}${JSON.stringify(v)}${comma}` });
}

const within = (path, p) => path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`);

/**
 * A <pre> of the body. `mark` is the path shown most; `others` the sample's
 * other differing paths. Returns the element, whether `mark` was found, and
 * whether the body was JSON at all (a stored body cut at its size cap is not).
 */
export function jsonView(body, mark, others = []) {
  let value;
  try {
    value = JSON.parse(body);
  } catch {
    const whole = mark === 'body';
    return {
      el: h('pre', { class: 'json' }, h('span', { class: ['ln', whole && 'diff'] }, body || '(empty body)')),
      found: whole,
      parsed: false,
    };
  }
  const out = [];
  lines(value, '$', 0, '', out, true);
  let found = false;
  const spans = out.map((l) => {
    const hit = mark.startsWith('$') && within(l.path, mark);
    if (hit) found = true;
    const other = !hit && others.some((p) => p.startsWith('$') && within(l.path, p));
    return h('span', { class: ['ln', hit && 'diff', other && 'diff-other'], 'data-path': l.path }, l.text);
  });
  return { el: h('pre', { class: 'json' }, spans), found, parsed: true };
}
