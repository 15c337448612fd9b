/**
 * What every route reader gets: the file's text and where its string
 * literals are (so a docstring's example is never read as a route), and the
 * shared helpers for one-line string literals. A reader is a pattern read
 * over a framework's own spelling of a route, not a parser: a miss costs a
 * route, never a wrong import.
 */

export interface RouteFact {
  /** The pattern as written (`api/block/<int:id>/`, `^feed/$`, `/api/chat`). */
  path: string;
  /** Who read it: Django's URLconf and Flask's decorators here, the rest in planner/route-readers/ (their paths are already strangler patterns). */
  framework:
    | 'django'
    | 'flask'
    | 'falcon'
    | 'pyramid'
    | 'aiohttp'
    | 'tornado'
    | 'starlette'
    | 'routes'
    | 'twisted'
    | 'buildbot'
    | 'werkzeug';
  methods: string[] | null;
  line: number;
  /** Django `include('pkg.urls')`: the URLconf module this pattern mounts ('' when not a literal). */
  include: string | null;
  /** Django `include(name)` of a list: the variable, when it is a plain name. */
  includeList: string | null;
  /** Django `for u in settings.AUTHENTICATION_URLS: ... include(u)`: the setting whose dotted names are included. */
  includeSetting?: string;
  /** The top-level list variable the pattern is written in (`urlpatterns`, `list_patterns`). */
  list: string | null;
  /** Flask: the object the decorator is called on (`bp` in `@bp.route`); Django: the view expression (`views.thread.overview`). */
  on: string | null;
  /** Django: the first argument when the view is a call (`login_required(views.edit)`): the view it wraps. */
  wrapped?: string | null;
  /** Written under `if settings.DEBUG:` — served in development only: marked, never emitted. */
  debug?: true;
}

const REGEX_META = /[()[\]\\.?*+{}|]/;

/** A Django `path()` or `re_path()`/`url()` pattern (or a Flask rule) as a strangler path pattern. */
export function toRoutePath(pattern: string): string {
  // `^listinfo/?$`: an optional trailing slash is the route itself (a strangler path matches either).
  let p = pattern.replace(/^\^/, '').replace(/\$$/, '').replace(/\/\?$/, '');
  // Converters: Django <int:pk> / <slug>, Flask <int:id> / <path:rest>
  let out = '';
  let glob = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '<') {
      const end = p.indexOf('>', i);
      if (end < 0) {
        glob = true;
        break;
      }
      const spec = p.slice(i + 1, end);
      const [conv, name] = spec.includes(':') ? spec.split(':') : ['str', spec];
      if (conv === 'path') {
        glob = true;
        break;
      }
      out += `:${name.replace(/\W/g, '_')}`;
      i = end;
      continue;
    }
    if (REGEX_META.test(c)) {
      glob = true;
      break;
    }
    out += c;
  }
  p = `/${out}`.replace(/\/{2,}/g, '/');
  if (glob) {
    // cut back to the last whole segment so `/api/blo(?P..)` does not claim /api/blocks
    p = `${p.slice(0, p.lastIndexOf('/') + 1)}*`;
  }
  return p;
}

export interface ReaderContext {
  src: string;
  /** True when the offset is inside a string literal. */
  inString: (index: number) => boolean;
  lineOf: (index: number) => number;
}

export interface RouteReader {
  /** The framework's name as reasons print it ("Falcon add_route"). */
  name: string;
  /** A cheap test on the text: the reader runs only when it is true. */
  applies: (src: string) => boolean;
  read: (ctx: ReaderContext) => RouteFact[];
}

/** A one-line string literal whose quote is capture group `n` and whose text is group `n + 1`. */
export const quoted = (n: number): string => `[rbuRBU]{0,2}(['"])((?:(?!\\${n})[^\\\\\\n]|\\\\.)*)\\${n}`;

/** HTTP verbs a route may name. */
export const HTTP_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/** The quoted HTTP verbs in a list, tuple or set literal's text (`['GET', 'POST']`, `{'GET'}`). */
export function methodsIn(text: string): string[] | null {
  const methods = [...text.matchAll(/['"](\w+)['"]/g)]
    .map((x) => x[1].toUpperCase())
    .filter((m) => HTTP_METHODS.has(m));
  return methods.length > 0 ? [...new Set(methods)] : null;
}

/** A route fact with the fields a non-Django reader leaves empty. */
export function route(
  framework: RouteFact['framework'],
  path: string,
  line: number,
  extra: Partial<RouteFact> = {},
): RouteFact {
  return {
    path,
    framework,
    methods: null,
    line,
    include: null,
    includeList: null,
    list: null,
    on: null,
    ...extra,
  };
}

/** True when `index` sits after a `#` on its line: a comment (a `#` inside a string before it is rare enough to ignore). */
function inComment(src: string, index: number): boolean {
  const start = src.lastIndexOf('\n', index - 1) + 1;
  return src.slice(start, index).includes('#');
}

/** Every match of `re` (global) in code: not inside a string literal or a comment. */
export function* matches(ctx: ReaderContext, re: RegExp): Generator<RegExpExecArray> {
  re.lastIndex = 0;
  for (let m = re.exec(ctx.src); m !== null; m = re.exec(ctx.src))
    if (!ctx.inString(m.index) && !inComment(ctx.src, m.index)) yield m;
}

/**
 * A route template as a strangler path pattern: `{id}` (Falcon, Pyramid,
 * routes, aiohttp, Starlette) and `<int:id>` (werkzeug) become `:id`; a
 * variable with its own pattern (`{path_info:.*}`, `<path:rest>`) or a
 * Pyramid `*traverse` ends the pattern in `*`, cut back to the last whole
 * segment. Dots stay literal (`/3.1/lists` is not a regular expression).
 */
export function templateToRoutePath(template: string): string {
  let out = '';
  let glob = false;
  for (let i = 0; i < template.length && !glob; i++) {
    const c = template[i];
    const close = c === '{' ? '}' : c === '<' ? '>' : '';
    if (close !== '') {
      const end = template.indexOf(close, i);
      if (end < 0) {
        glob = true;
        break;
      }
      const spec = template.slice(i + 1, end);
      const colon = spec.indexOf(':');
      // `{name:regex}` and `<path:name>` may span segments; `<int:id>` and `{id}` are one.
      const name = close === '}' ? (colon < 0 ? spec : spec.slice(0, colon)) : spec.slice(colon + 1);
      const conv = close === '>' && colon >= 0 ? spec.slice(0, colon) : '';
      if ((close === '}' && colon >= 0) || conv === 'path') glob = true;
      else out += `:${name.replace(/\W/g, '_')}`;
      i = end;
    } else if (c === '*') glob = true;
    else out += c;
  }
  let p = `/${out}`.replace(/\/{2,}/g, '/');
  if (glob) p = `${p.slice(0, p.lastIndexOf('/') + 1)}*`;
  return p;
}
