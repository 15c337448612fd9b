/**
 * What one Python file says about data and entry points, read from its text
 * without running it: classes with their bases and table options (Django
 * models, SQLAlchemy declarative classes), `Table('name', ...)`, tables named
 * by SQL in string literals, Django URL patterns and Flask routes and
 * blueprints. The capability planner (planner/capabilities.ts) turns these
 * per-file facts into table ownership and routes per capability.
 *
 * These are pattern reads, not a parser: they run on text the import scanner
 * already tokenised (string spans come from it, so SQL is only looked for in
 * real string literals), and a miss costs a reason line, never a wrong import.
 * Frameworks other than Django and Flask have their readers in
 * planner/route-readers/.
 */
import { type OrmFacts, readOrmFacts } from './orm-tables.js';
import {
  type ChildFact,
  READER_NAMES,
  ROUTE_READERS,
  type RouteFact,
  readChildren,
} from './route-readers/index.js';

export type { RouteFact };

export { READER_NAMES };

export interface ClassFact {
  name: string;
  /** Base expressions as written, keyword arguments dropped (`models.Model`, `Base`). */
  bases: string[];
  line: number;
  /** `Meta.db_table` (Django) or `__tablename__` (SQLAlchemy) when written as a literal. */
  table: string | null;
  /** `__tablename__` seen: a SQLAlchemy declarative class. */
  sqlalchemy: boolean;
  abstract: boolean;
  proxy: boolean;
  /** `Meta.app_label` when written. */
  appLabel: string | null;
}

export interface SqlFact {
  table: string;
  /** INSERT INTO / UPDATE / DELETE FROM: a write; FROM / JOIN: a read. */
  write: boolean;
  /** CREATE TABLE: the schema, not a use. */
  create: boolean;
  line: number;
}

export interface BlueprintFact {
  /** The variable bound to the blueprint (`bp = Blueprint(...)`). */
  variable: string;
  name: string;
  prefix: string | null;
  line: number;
}

export interface ModuleFacts {
  classes: ClassFact[];
  /** `Table('name', metadata, ...)`. */
  tables: Array<{ table: string; line: number }>;
  sql: SqlFact[];
  routes: RouteFact[];
  blueprints: BlueprintFact[];
  /** `app.register_blueprint(bp, url_prefix='/x')`: variable -> prefix. */
  registrations: Array<{ variable: string; prefix: string | null }>;
  /** An `AppConfig` subclass's `label = '...'` (apps.py). */
  appLabel: string | null;
  /** `name = '...'` of an AppConfig subclass: the app's dotted package. */
  appName: string | null;
  /** Local names bound by imports -> the module of the tree they name (filled by the tree scan for files with routes). */
  locals?: Record<string, string>;
  /** `from m import Name` of a module of the tree: [module, Name] pairs (filled by the tree scan). */
  symbols?: Array<[string, string]>;
  /** Django relations named by string (`ForeignKey('shop.Order')`): [app label, model] pairs. */
  relations: Array<[string, string]>;
  /**
   * Per top-level definition ('' = module level): the names of the tree it
   * refers to (`module:Name`; `module:` for a module used as a whole), the
   * file's own definitions it calls, and attribute chains through a module's
   * last segment (`db.changes`). Filled by the tree scan; read by
   * planner/table-references.ts.
   */
  refs?: Array<{ scope: string; names: string[]; calls: string[]; chains: string[] }>;
  /** Table objects bound to a name, ORM models by framework name, references by string: see planner/orm-tables.ts. */
  orm?: OrmFacts;
  /** Object-routed resources (mailman's `@child()` methods), per class. */
  children?: ChildFact[];
  /** A Horizon `Dashboard` or `Panel` class's `slug`: the URL segment its urls are mounted at. */
  horizon?: { kind: 'dashboard' | 'panel'; slug: string };
  /** Top-level lists of dotted names (`AUTHENTICATION_URLS = ['openstack_auth.urls']`): settings a URLconf may include from. */
  dottedLists?: Record<string, string[]>;
  /** `if __name__ == '__main__':` — the module runs as a program. */
  runsAsMain?: true;
  /** Entry scripts that start this module as a process (`console_scripts nova-compute`), from the project's metadata (filled by the tree scan). */
  scripts?: string[];
  /** A plugin manifest in the package's folder (`tryton.cfg`, `__manifest__.py`): the package is an app of its own (filled by the tree scan). */
  manifest?: string;
}

const lineAt = (index: number, starts: number[]): number => {
  // binary search over line-start offsets
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= index) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
};

function lineStarts(src: string): number[] {
  const starts = [0];
  for (let i = src.indexOf('\n'); i >= 0; i = src.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** A one-line string literal whose quote is capture group `n` and whose text is group `n + 1`. */
const quoted = (n: number): string => `[rbuRBU]{0,2}(['"])((?:(?!\\${n})[^\\\\\\n]|\\\\.)*)\\${n}`;
// Bases may hold one level of calls: `class User(avatar_mixin(100, 'login'), ModelSQL):` (Tryton).
const CLASS_RE = /^class[ \t]+([A-Za-z_]\w*)[ \t]*(?:\(((?:[^()]|\([^()]*\))*)\))?[ \t]*:/gm;
const TOP_LEVEL_LINE = /\n(?=[^\s#)\]}])/g;
const TABLENAME_RE = new RegExp(String.raw`^[ \t]+__tablename__[ \t]*=[ \t]*${quoted(1)}`, 'm');
const DB_TABLE_RE = new RegExp(String.raw`^[ \t]+db_table[ \t]*=[ \t]*${quoted(1)}`, 'm');
const APP_LABEL_RE = new RegExp(String.raw`^[ \t]+app_label[ \t]*=[ \t]*${quoted(1)}`, 'm');
const ABSTRACT_RE = /^[ \t]+abstract[ \t]*=[ \t]*True\b/m;
const PROXY_RE = /^[ \t]+proxy[ \t]*=[ \t]*True\b/m;
// A literal name only: `Table('%saggregates' % prefix)` or `Table('dump_' + name)` builds a name at run time.
const TABLE_CALL_RE = new RegExp(String.raw`\bTable\([ \t\n]*${quoted(1)}(?![ \t]*[%+]|\.format)`, 'g');
const DJANGO_ROUTE_RE = new RegExp(
  // The pattern may be two adjacent literals (`r'^list/(?P<fqdn>...)/message/' r'(?P<hash>\w+)/'`, HyperKitty).
  String.raw`\b(path|re_path|url)\([ \t\n]*${quoted(2)}(?:[ \t\n]*${quoted(4)})?[ \t\n]*,[ \t\n]*(?:(include\([ \t\n]*(?:\(?[ \t\n]*(?:${quoted(7)}|([A-Za-z_][\w.]*)))?)|([A-Za-z_][\w.]*)(?:\([ \t\n]*([A-Za-z_][\w.]*))?)?`,
  'g',
);
const FLASK_ROUTE_RE = new RegExp(
  // The arguments up to the call's first `)`, across lines: trytond writes `methods={'GET', 'POST'})` on the next one.
  String.raw`^[ \t]*@[ \t]*([A-Za-z_][\w.]*)\.(route|get|post|put|patch|delete)\([ \t\n]*${quoted(3)}([^)]*)`,
  'gm',
);
const BLUEPRINT_RE = new RegExp(
  String.raw`^[ \t]*([A-Za-z_]\w*)[ \t]*=[ \t]*(?:[\w.]+\.)?Blueprint\([ \t\n]*${quoted(2)}([^)]*)`,
  'gm',
);
// FastAPI's `app.include_router(router, prefix='/x')` mounts like register_blueprint.
const REGISTER_RE = /\.(?:register_blueprint|include_router)\(\s*([A-Za-z_][\w.]*)([^)]*)\)/g;
const PREFIX_RE = new RegExp(String.raw`\b(?:url_)?prefix[ \t]*=[ \t]*${quoted(1)}`);
/** FastAPI `router = APIRouter(prefix='/items')`: a blueprint by another name. */
const API_ROUTER_RE = /^[ \t]*([A-Za-z_]\w*)[ \t]*=[ \t]*(?:[\w.]+\.)?APIRouter\(([^)]*)/gm;
const HORIZON_RE = /^class[ \t]+\w+[ \t]*\([^)]*\b(Dashboard|Panel|PanelGroup)\b[^)]*\)[ \t]*:/m;
const DOTTED_LIST_RE = /^([A-Z][A-Z0-9_]*)[ \t]*=[ \t]*[[(]([^\])]*)[\])]/gm;
const MAIN_RE = /^if[ \t]+__name__[ \t]*==[ \t]*(['"])__main__\1[ \t]*:/m;

/** The offset of the `]` closing the `[` at `open` (brackets inside strings ignored), or -1. */
function closingBracket(src: string, open: number, inString: (i: number) => boolean): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if ((c === '[' || c === ']') && inString(i)) continue;
    if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  return -1;
}

/** `include(u)` inside `for u in settings.NAME:`: the setting it includes from. */
function settingLoop(src: string, index: number, variable: string | undefined): { includeSetting?: string } {
  if (variable === undefined || !/^[A-Za-z_]\w*$/.test(variable)) return {};
  const head = src.slice(Math.max(0, index - 400), index);
  const m = new RegExp(
    String.raw`\bfor[ \t]+${variable}[ \t]+in[ \t]+(?:\w+\.)?([A-Z][A-Z0-9_]*)[ \t]*:[^\n]*\n[^\n]*$`,
  ).exec(head);
  return m ? { includeSetting: m[1] } : {};
}

/** True when the route at `index` sits in an `if ...DEBUG...:` block (the nearest less-indented line above it). */
function underDebug(src: string, index: number): boolean {
  const lineStart = src.lastIndexOf('\n', index) + 1;
  const indent = /^[ \t]*/.exec(src.slice(lineStart, index))![0].length;
  if (indent === 0) return false;
  for (let end = lineStart - 1; end > 0; ) {
    const start = src.lastIndexOf('\n', end - 1) + 1;
    const line = src.slice(start, end);
    const own = /^[ \t]*/.exec(line)![0].length;
    if (line.trim() !== '' && !line.trim().startsWith('#') && own < indent)
      return /^[ \t]*(?:el)?if\b[^\n]*\bDEBUG\b/.test(line);
    end = start - 1;
  }
  return false;
}
// A list, tuple or set: trytond writes `methods={'GET'}`.
const METHODS_RE = /methods\s*=\s*[[({]([^\])}]*)/;
const RELATION_RE =
  /\b(?:ForeignKey|OneToOneField|ManyToManyField)\(\s*['"]([A-Za-z_]\w*)\.([A-Za-z_]\w*)['"]/g;
const APPCONFIG_RE = /^class[ \t]+\w+[ \t]*\([^)]*AppConfig[^)]*\)[ \t]*:/m;

// SQL: a whole statement shape in upper-case keywords anywhere, or in
// lower case from the string's start. Prose ("Select the emails from that
// list", "remove the user from the feed") has neither.
const SQL_UPPER =
  /\b(SELECT\s[\s\S]*?\sFROM\s|INSERT\s+(OR\s+[A-Z]+\s+)?INTO\s|UPDATE\s+\S+\s+SET\s|DELETE\s+FROM\s|CREATE\s+TABLE\s)/;
const SQL_LOWER =
  /^\s*(select\s[\s\S]*?\sfrom\s|insert\s+(or\s+[a-z]+\s+)?into\s|update\s+\S+\s+set\s|delete\s+from\s|create\s+table\s|with\s+\w+\s+as\s*\()/;
const SQL_TABLE_UPPER =
  /\b(CREATE\s+TABLE(?:\s+IF\s+NOT\s+EXISTS)?|DELETE\s+FROM|INSERT\s+(?:OR\s+[A-Z]+\s+)?INTO|UPDATE(?:\s+OR\s+[A-Z]+)?|FROM|JOIN|INTO)\s+[`"[]?([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?)/g;
const SQL_TABLE_LOWER =
  /\b(create\s+table(?:\s+if\s+not\s+exists)?|delete\s+from|insert\s+(?:or\s+[a-z]+\s+)?into|update(?:\s+or\s+[a-z]+)?|from|join|into)\s+[`"[]?([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?)/g;
/** System catalogs and dictionary views: never a table of the application. */
const SQL_CATALOG = /^(pg_|sqlite_|information_schema|user_|all_|dba_|sys$|mysql$|v\$)/;
/** A database's own catalog (`sqlite_master`, `pg_class`), also when a `Table()` object names it. */
export const isSystemTable = (name: string): boolean => SQL_CATALOG.test(name.toLowerCase());
const SQL_NOT_TABLES = new Set([
  'select',
  'where',
  'set',
  'values',
  'the',
  'a',
  'an',
  'lateral',
  'unnest',
  'only',
  'dual',
  'information_schema',
  'pg_catalog',
  'sqlite_master',
  'generate_series',
]);

/**
 * A piece of a table name completed at run time, not a table: a prefix
 * (`dump_`, `shadow_` + name), or a name glued to a placeholder
 * (`aggregates%s`, `{prefix}` follows).
 */
function isNameFragment(name: string, next: string): boolean {
  return !/^[A-Za-z_][\w$.]*$/.test(name) || name.endsWith('_') || next === '%' || next === '{';
}

function splitBases(raw: string | undefined): string[] {
  if (!raw) return [];
  return raw
    .split(',')
    .map((b) => b.replace(/#[^\n]*/g, '').trim())
    .filter((b) => b !== '' && !b.includes('='));
}

function readMethods(rest: string): string[] | null {
  const m = METHODS_RE.exec(rest);
  if (!m) return null;
  const methods = [...m[1].matchAll(/['"](\w+)['"]/g)].map((x) => x[1].toUpperCase());
  return methods.length > 0 ? methods : null;
}

/** Offsets of the top-level statements (lines starting in column 0 with code). */
function topLevelStatements(src: string): number[] {
  const out: number[] = [];
  const re = /^[A-Za-z_@]/gm;
  for (let m = re.exec(src); m !== null; m = re.exec(src)) out.push(m.index);
  return out;
}

/** The list variable assigned by the top-level statement holding `index` (`name = [`, `name += [`). */
function listVariableAt(src: string, statements: number[], index: number): string | null {
  let lo = 0;
  let hi = statements.length - 1;
  let at = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (statements[mid] <= index) {
      at = statements[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (at < 0) return null;
  const m = /^([A-Za-z_]\w*)[ \t]*(?::[^=\n]*)?\+?=[^=]/.exec(src.slice(at, at + 200));
  return m ? m[1] : null;
}

/** Read the facts of one file. `src` is the text the import scanner saw (BOM removed); `strings` its string spans. */
export function readModuleFacts(src: string, strings: number[]): ModuleFacts {
  const facts: ModuleFacts = {
    classes: [],
    tables: [],
    sql: [],
    routes: [],
    blueprints: [],
    registrations: [],
    relations: [],
    appLabel: null,
    appName: null,
  };
  // String spans come in source order: a binary search says whether an offset is inside one.
  const inString = (index: number): boolean => {
    let lo = 0;
    let hi = strings.length / 3 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (strings[mid * 3 + 1] <= index) lo = mid + 1;
      else if (strings[mid * 3] > index) hi = mid - 1;
      else return true;
    }
    return false;
  };
  let starts: number[] | null = null;
  const lineOf = (index: number): number => {
    starts ??= lineStarts(src);
    return lineAt(index, starts);
  };

  if (src.includes('class ')) {
    CLASS_RE.lastIndex = 0;
    for (let m = CLASS_RE.exec(src); m !== null; m = CLASS_RE.exec(src)) {
      if (inString(m.index)) continue;
      TOP_LEVEL_LINE.lastIndex = m.index + m[0].length;
      const next = TOP_LEVEL_LINE.exec(src);
      const body = src.slice(m.index + m[0].length, next ? next.index : src.length);
      const tablename = TABLENAME_RE.exec(body);
      const dbTable = DB_TABLE_RE.exec(body);
      const label = APP_LABEL_RE.exec(body);
      facts.classes.push({
        name: m[1],
        bases: splitBases(m[2]),
        line: lineOf(m.index),
        table: tablename?.[2] ?? dbTable?.[2] ?? null,
        sqlalchemy: tablename !== null,
        abstract: ABSTRACT_RE.test(body),
        proxy: PROXY_RE.test(body),
        appLabel: label?.[2] ?? null,
      });
      if (APPCONFIG_RE.test(m[0])) {
        const l = new RegExp(String.raw`^[ \t]+label[ \t]*=[ \t]*${quoted(1)}`, 'm').exec(body);
        const nm = new RegExp(String.raw`^[ \t]+name[ \t]*=[ \t]*${quoted(1)}`, 'm').exec(body);
        if (l) facts.appLabel = l[2];
        if (nm) facts.appName = nm[2];
      }
    }
  }
  if (src.includes('Field(') || src.includes('ForeignKey(')) {
    RELATION_RE.lastIndex = 0;
    for (let m = RELATION_RE.exec(src); m !== null; m = RELATION_RE.exec(src))
      if (!inString(m.index)) facts.relations.push([m[1], m[2]]);
  }
  if (src.includes('Table(')) {
    TABLE_CALL_RE.lastIndex = 0;
    for (let m = TABLE_CALL_RE.exec(src); m !== null; m = TABLE_CALL_RE.exec(src))
      if (!isNameFragment(m[2], '')) facts.tables.push({ table: m[2], line: lineOf(m.index) });
  }
  const orm = readOrmFacts(src, inString);
  if (orm !== null) facts.orm = orm;
  for (let s = 0; s < strings.length; s += 3) {
    const text = src.slice(strings[s], strings[s + 1]);
    const inner = text.replace(/^[A-Za-z]{0,2}('''|"""|'|")/, '');
    const re = SQL_UPPER.test(inner) ? SQL_TABLE_UPPER : SQL_LOWER.test(inner) ? SQL_TABLE_LOWER : null;
    if (re === null) continue;
    re.lastIndex = 0;
    for (let m = re.exec(inner); m !== null; m = re.exec(inner)) {
      const verb = m[1].toLowerCase();
      if (isNameFragment(m[2], inner.charAt(m.index + m[0].length))) continue;
      const name = m[2].toLowerCase();
      const schema = name.includes('.') ? name.slice(0, name.indexOf('.')) : '';
      const table = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : name;
      if (SQL_NOT_TABLES.has(table) || SQL_CATALOG.test(table) || SQL_CATALOG.test(schema)) continue;
      const create = verb.startsWith('create');
      const write =
        !create &&
        (verb.startsWith('delete') ||
          verb.startsWith('insert') ||
          verb.startsWith('update') ||
          verb === 'into');
      facts.sql.push({ table, write, create, line: strings[s + 2] });
    }
  }
  // Only a URLconf holds URL patterns (a docstring's example is inside a string).
  if (src.includes('urlpatterns') && (src.includes('path(') || src.includes('url('))) {
    const statements = topLevelStatements(src);
    // `path('profile/', include([...]))`: the inline list's patterns take the outer pattern as prefix.
    const inline: Array<{ from: number; to: number; prefix: string }> = [];
    DJANGO_ROUTE_RE.lastIndex = 0;
    for (let m = DJANGO_ROUTE_RE.exec(src); m !== null; m = DJANGO_ROUTE_RE.exec(src)) {
      // `os.path(`, `self.url(` are not URL patterns: only a bare call counts.
      const before = src.charCodeAt(m.index - 1);
      if (before === 46 || inString(m.index)) continue;
      const written = m[3] + (m[5] ?? '');
      const outer = inline.filter((x) => x.from < m.index && m.index < x.to).pop();
      const path = outer ? outer.prefix + written.replace(/^\^/, '') : written;
      if (m[6] !== undefined && m[8] === undefined && m[9] === undefined) {
        const open = src.indexOf('[', m.index + m[0].length - 1);
        const close =
          open >= 0 && /^\s*$/.test(src.slice(m.index + m[0].length, open))
            ? closingBracket(src, open, inString)
            : -1;
        if (close > 0) {
          inline.push({ from: open, to: close, prefix: path });
          continue;
        }
      }
      facts.routes.push({
        path,
        framework: 'django',
        methods: null,
        line: lineOf(m.index),
        include: m[6] !== undefined ? (m[8] ?? '') : null,
        includeList: m[9] ?? null,
        list: listVariableAt(src, statements, m.index),
        on: m[10] ?? null,
        wrapped: m[11] ?? null,
        ...(underDebug(src, m.index) ? { debug: true as const } : {}),
        ...settingLoop(src, m.index, m[9]),
      });
    }
  }
  if (
    src.includes('.route(') ||
    src.includes('register_blueprint(') ||
    src.includes('Blueprint(') ||
    src.includes('APIRouter(') ||
    src.includes('include_router(') ||
    /@\w+\.(get|post|put|patch|delete)\(/.test(src)
  ) {
    FLASK_ROUTE_RE.lastIndex = 0;
    for (let m = FLASK_ROUTE_RE.exec(src); m !== null; m = FLASK_ROUTE_RE.exec(src)) {
      if (inString(m.index)) continue;
      const verb = m[2];
      facts.routes.push({
        path: m[4],
        framework: 'flask',
        methods: verb === 'route' ? readMethods(m[5]) : [verb.toUpperCase()],
        line: lineOf(m.index),
        include: null,
        includeList: null,
        list: null,
        on: m[1],
      });
    }
    BLUEPRINT_RE.lastIndex = 0;
    for (let m = BLUEPRINT_RE.exec(src); m !== null; m = BLUEPRINT_RE.exec(src)) {
      const prefix = PREFIX_RE.exec(m[4]);
      facts.blueprints.push({
        variable: m[1],
        name: m[3],
        prefix: prefix?.[2] ?? null,
        line: lineOf(m.index),
      });
    }
    API_ROUTER_RE.lastIndex = 0;
    for (let m = API_ROUTER_RE.exec(src); m !== null; m = API_ROUTER_RE.exec(src)) {
      const prefix = PREFIX_RE.exec(m[2]);
      facts.blueprints.push({
        variable: m[1],
        name: m[1],
        prefix: prefix?.[2] ?? null,
        line: lineOf(m.index),
      });
    }
    REGISTER_RE.lastIndex = 0;
    for (let m = REGISTER_RE.exec(src); m !== null; m = REGISTER_RE.exec(src)) {
      const prefix = PREFIX_RE.exec(m[2]);
      facts.registrations.push({ variable: m[1], prefix: prefix?.[2] ?? null });
    }
  }
  readOtherFrameworks(src, inString, lineOf, facts);
  return facts;
}

/** The readers of planner/route-readers/, Horizon slugs, settings lists and `__main__`. */
function readOtherFrameworks(
  src: string,
  inString: (i: number) => boolean,
  lineOf: (i: number) => number,
  facts: ModuleFacts,
): void {
  const ctx = { src, inString, lineOf };
  for (const reader of ROUTE_READERS) if (reader.applies(src)) facts.routes.push(...reader.read(ctx));
  const children = readChildren(ctx);
  if (children.length > 0) facts.children = children;
  const horizon = HORIZON_RE.exec(src);
  if (horizon && horizon[1] !== 'PanelGroup') {
    const slug = new RegExp(String.raw`^[ \t]+slug[ \t]*=[ \t]*${quoted(1)}`, 'm').exec(
      src.slice(horizon.index),
    );
    if (slug) facts.horizon = { kind: horizon[1] === 'Dashboard' ? 'dashboard' : 'panel', slug: slug[2] };
  }
  if (src.includes('.urls')) {
    DOTTED_LIST_RE.lastIndex = 0;
    for (let m = DOTTED_LIST_RE.exec(src); m !== null; m = DOTTED_LIST_RE.exec(src)) {
      const items = [...m[2].matchAll(/['"]([A-Za-z_][\w.]*)['"]/g)].map((x) => x[1]);
      if (items.length > 0 && items.every((x) => x.includes('.'))) {
        facts.dottedLists ??= {};
        facts.dottedLists[m[1]] = items;
      }
    }
  }
  if (MAIN_RE.test(src)) facts.runsAsMain = true;
}

/** True when a file holds nothing this module looks for (kept out of the plan's memory). */
export function isEmptyFacts(f: ModuleFacts): boolean {
  return (
    f.classes.length === 0 &&
    f.tables.length === 0 &&
    f.sql.length === 0 &&
    f.routes.length === 0 &&
    f.blueprints.length === 0 &&
    f.registrations.length === 0 &&
    f.relations.length === 0 &&
    f.appLabel === null &&
    f.appName === null &&
    f.symbols === undefined &&
    f.refs === undefined &&
    f.orm === undefined &&
    f.children === undefined &&
    f.horizon === undefined &&
    f.dottedLists === undefined &&
    f.runsAsMain === undefined &&
    f.scripts === undefined &&
    f.manifest === undefined
  );
}
