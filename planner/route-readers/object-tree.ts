/**
 * Object-routed resource trees, as mailman's REST API (Falcon with its own
 * `ObjectRouter`) writes them: a resource class's methods decorated with
 * `@child()` (the method's name is the path segment), `@child('3.1')` (a
 * literal segment), `@child(r'^regex')` or `@child(matcher)` (a variable
 * part) return the resource that serves the rest of the path. The facts here
 * are per class; planner/entry-points.ts walks them from the roots (classes
 * no child returns) across files into full paths.
 */
import type { ReaderContext } from './context.js';

export interface ChildFact {
  /** The resource class the method belongs to. */
  cls: string;
  /** The literal segment, or null for a variable part (regex or matcher function). */
  segment: string | null;
  /** Classes the method returns (`return AList(name), segments`). */
  returns: string[];
  /** The method consumes the next segment (`segments.pop(0)`): returned resources sit one segment deeper. */
  pops: boolean;
  line: number;
}

const CLASS = /^class[ \t]+([A-Za-z_]\w*)/gm;
const CHILD = /^([ \t]+)@child\(([^)]*)\)[ \t]*\n\1def[ \t]+([A-Za-z_]\w*)/gm;
const RETURN = /\b(?:return|resource[ \t]*=)[ \t]+([A-Z]\w*)\(/g;

export function readChildren(ctx: ReaderContext): ChildFact[] {
  const { src } = ctx;
  if (!src.includes('@child(')) return [];
  const classes: Array<{ name: string; at: number }> = [];
  CLASS.lastIndex = 0;
  for (let m = CLASS.exec(src); m !== null; m = CLASS.exec(src))
    if (!ctx.inString(m.index)) classes.push({ name: m[1], at: m.index });
  const out: ChildFact[] = [];
  CHILD.lastIndex = 0;
  for (let m = CHILD.exec(src); m !== null; m = CHILD.exec(src)) {
    if (ctx.inString(m.index)) continue;
    const owner = classes.filter((c) => c.at < m.index).pop();
    if (!owner) continue;
    // The method's body: up to the next line indented no deeper than its decorator.
    const indent = m[1].length;
    const after = m.index + m[0].length;
    const next = new RegExp(`\\n[ \\t]{0,${indent}}(?=[^\\s#])`, 'g');
    next.lastIndex = after;
    const end = next.exec(src)?.index ?? src.length;
    const body = src.slice(after, end);
    const arg = m[2].trim();
    const literal = /^[rbuRBU]{0,2}(['"])(.*)\1$/.exec(arg);
    // `@child(r'^header-matches')`: a regex that is only a literal is that segment.
    const text = literal?.[2].replace(/^\^/, '') ?? '';
    const segment = arg === '' ? m[3] : literal && /^[\w.-]+$/.test(text) ? text : null;
    const returns = [...body.matchAll(RETURN)].map((r) => r[1]);
    out.push({
      cls: owner.name,
      segment,
      returns: [...new Set(returns)],
      pops: /segments\.pop\(/.test(body),
      line: ctx.lineOf(m.index),
    });
  }
  return out;
}
