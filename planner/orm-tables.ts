/**
 * Table facts of one file that the class reader (planner/python-facts.ts)
 * does not see: `Table()` objects bound to a name, Tryton-style models named
 * by a dotted framework name, and models referenced by that name in a string.
 *
 * - SQLAlchemy core: `changes = sa.Table('changes', metadata, ...)`, at module
 *   level or as a class attribute (buildbot's `Model.changes`): code touches
 *   the table by reading that name (`model.changes`, `from m import changes`).
 * - Tryton: `class User(ModelSQL, ModelView): __name__ = 'res.user'` stores
 *   its rows in `res_user` (`_table = '...'` overrides); other code reaches it
 *   with `Pool().get('res.user')` or a relation field (`fields.Many2One('res.user', ...)`).
 *   A class with `__name__` and no SQL base (`metaclass=PoolMeta`) extends a
 *   model defined elsewhere: a use, not a declaration.
 */

export interface OrmFacts {
  /** `name = Table('table', ...)`; `holder` is the enclosing top-level class, null at module level. */
  tableVars: Array<{ name: string; table: string; holder: string | null }>;
  /** Classes with a Tryton-style `__name__ = 'a.b'`: [class, model name, `_table` when written]. */
  named: Array<{ cls: string; model: string; table: string | null }>;
  /** Model names referenced by string (`Pool().get('res.user')`, `fields.Many2One('res.user')`). */
  modelRefs: string[];
  /**
   * `@implementer(IListManager)` classes (zope.interface): code reaching them
   * by `getUtility(IListManager)` names only the interface.
   */
  implementers: Array<{ cls: string; interfaces: string[] }>;
}

/** A quoted name whose quote is capture group `n` and whose text is group `n + 1`. */
const quotedName = (n: number): string => `(['"])([A-Za-z_][\\w.-]*)\\${n}`;
const q = quotedName(1);
const TABLE_VAR_RE = new RegExp(
  String.raw`^([ \t]*)([A-Za-z_]\w*)[ \t]*=[ \t]*(?:[A-Za-z_][\w.]*\.)?Table\([ \t\n]*${quotedName(3)}(?![ \t]*[%+])`,
  'gm',
);
const TOP_CLASS_RE = /class[ \t]+([A-Za-z_]\w*)/y;
const NAMED_RE = new RegExp(String.raw`^[ \t]+__name__[ \t]*=[ \t]*${q}`, 'm');
const UNDERSCORE_TABLE_RE = new RegExp(String.raw`^[ \t]+_table[ \t]*=[ \t]*${q}`, 'm');
/** A dotted model name (`party.party`): lower case words, at least one dot. */
const MODEL_NAME = String.raw`(['"])([a-z][a-z0-9_]*(?:[.-][a-z][a-z0-9_]*)+)\1`;
const MODEL_REF_RE = new RegExp(
  String.raw`(?:[Pp]ool\.get|Pool\(\)\.get|fields\.(?:Many2One|One2Many|Many2Many|One2One|Reference))\([ \t\n]*${MODEL_NAME}`,
  'g',
);
const TOP_LEVEL_LINE = /\n(?=[^\s#)\]}])/g;
const IMPLEMENTER_RE = /^@implementer\(([^)]*)\)[ \t]*\n(?:@[^\n]*\n)*class[ \t]+([A-Za-z_]\w*)/gm;

/** Read the ORM facts of one file; null when it has none. */
export function readOrmFacts(src: string, inString: (index: number) => boolean): OrmFacts | null {
  const facts: OrmFacts = { tableVars: [], named: [], modelRefs: [], implementers: [] };
  const hasTable = src.includes('Table(');
  // `__name__ = 'res.user'` in a class body (not `getLogger(__name__)`).
  const hasNamed = src.includes('__name__ =') || src.includes('__name__=');
  const classStarts = hasTable || hasNamed ? topLevelClasses(src, inString) : [];
  if (hasTable) {
    let tops: number[] | null = null;
    TABLE_VAR_RE.lastIndex = 0;
    for (let m = TABLE_VAR_RE.exec(src); m !== null; m = TABLE_VAR_RE.exec(src)) {
      if (inString(m.index)) continue;
      let holder: string | null = null;
      if (m[1] !== '') {
        // Indented: a class attribute when the enclosing top-level statement is a class; a function's local otherwise.
        tops ??= topLevelStarts(src);
        let enclosing = -1;
        for (const at of tops) if (at < m.index) enclosing = at;
        const cls = classStarts.find(([at]) => at === enclosing);
        if (!cls) continue;
        holder = cls[1];
      }
      facts.tableVars.push({ name: m[2], table: m[4], holder });
    }
  }
  if (hasNamed) {
    for (const [at, cls] of classStarts) {
      TOP_LEVEL_LINE.lastIndex = at + 1;
      const next = TOP_LEVEL_LINE.exec(src);
      const body = src.slice(at, next ? next.index : src.length);
      const named = NAMED_RE.exec(body);
      if (!named?.[2].includes('.')) continue;
      facts.named.push({ cls, model: named[2], table: UNDERSCORE_TABLE_RE.exec(body)?.[2] ?? null });
    }
  }
  if (
    src.includes('ool.get(') ||
    src.includes('ool().get(') ||
    src.includes('2One(') ||
    src.includes('2Many(') ||
    src.includes('fields.Reference(')
  ) {
    const seen = new Set<string>();
    MODEL_REF_RE.lastIndex = 0;
    for (let m = MODEL_REF_RE.exec(src); m !== null; m = MODEL_REF_RE.exec(src))
      if (!inString(m.index)) seen.add(m[2]);
    facts.modelRefs = [...seen];
  }
  if (src.includes('@implementer(')) {
    IMPLEMENTER_RE.lastIndex = 0;
    for (let m = IMPLEMENTER_RE.exec(src); m !== null; m = IMPLEMENTER_RE.exec(src)) {
      const interfaces = m[1]
        .split(',')
        .map((x) => x.trim().slice(x.trim().lastIndexOf('.') + 1))
        .filter((x) => /^[A-Za-z_]\w*$/.test(x));
      if (interfaces.length > 0) facts.implementers.push({ cls: m[2], interfaces });
    }
  }
  return facts.tableVars.length + facts.named.length + facts.modelRefs.length + facts.implementers.length > 0
    ? facts
    : null;
}

/** Offsets of the top-level statements (lines starting with code in column 0). */
function topLevelStarts(src: string): number[] {
  const out: number[] = [];
  TOP_LEVEL_LINE.lastIndex = 0;
  for (let m = TOP_LEVEL_LINE.exec(src); m !== null; m = TOP_LEVEL_LINE.exec(src)) out.push(m.index + 1);
  return out;
}

/** Offsets and names of the top-level classes (lines starting `class `). */
function topLevelClasses(src: string, inString: (index: number) => boolean): Array<[number, string]> {
  const starts = src.startsWith('class') ? [0] : [];
  for (let i = src.indexOf('\nclass'); i >= 0; i = src.indexOf('\nclass', i + 1)) starts.push(i + 1);
  const out: Array<[number, string]> = [];
  for (const at of starts) {
    TOP_CLASS_RE.lastIndex = at;
    const m = TOP_CLASS_RE.exec(src);
    if (m && !inString(at)) out.push([at, m[1]]);
  }
  return out;
}

/** Tryton's default table name for a model: dots become underscores (`res.user` -> `res_user`). */
export const trytonTable = (model: string): string => model.replace(/\./g, '_');
