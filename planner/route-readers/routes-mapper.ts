/**
 * The `routes` package (Routes, as OpenStack uses it): `mapper.connect('/x',
 * controller=..., conditions={'method': ['GET']})`, `mapper.resource('server',
 * 'servers')` (the collection and its members), and declarative route
 * tables: tuples `('/servers/{id}', {'GET': [controller, 'show'], ...})` as
 * nova's `ROUTE_LIST` writes them, each verb a method of the route.
 */
import { matches, methodsIn, quoted, type RouteReader, route, templateToRoutePath } from './context.js';
import type { RouteFact } from './context.js';

// The rest of the line after the path: `controller=X(), conditions={...}` has parentheses of its own.
const CONNECT = new RegExp(
  String.raw`\.connect\([ \t\n]*(?:(?:None|${quoted(1)})[ \t\n]*,[ \t\n]*)?${quoted(3)}([^\n]*)`,
  'g',
);
const RESOURCE = new RegExp(String.raw`\.resource\([ \t\n]*${quoted(1)}[ \t\n]*,[ \t\n]*${quoted(3)}`, 'g');
/** `('/path', {` opening a declarative entry; its verbs follow up to the closing `}`. */
const TABLE_ENTRY = new RegExp(String.raw`\([ \t\n]*${quoted(1)}[ \t\n]*,[ \t\n]*\{`, 'g');

function tableEntries(ctx: Parameters<RouteReader['read']>[0]): RouteFact[] {
  const out: RouteFact[] = [];
  for (const m of matches(ctx, TABLE_ENTRY)) {
    if (!m[2].startsWith('/') || m[2].includes('%')) continue;
    // The verbs' dict closes at the first `}` after its own `{` (the path's `{id}` is before it).
    const open = m.index + m[0].length;
    const end = ctx.src.indexOf('}', open);
    const body = ctx.src.slice(open, end < 0 ? undefined : end);
    const verbs = [...body.matchAll(/['"]([A-Z]+)['"][ \t\n]*:[ \t\n]*\[?[ \t\n]*([A-Za-z_][\w.]*)?/g)];
    const methods = methodsIn(verbs.map((v) => `'${v[1]}'`).join(','));
    // A dict of anything but verbs (`('/x', {'a': 1})`) is not a route table.
    if (methods === null) continue;
    out.push(
      route('routes', templateToRoutePath(m[2]), ctx.lineOf(m.index), { methods, on: verbs[0][2] ?? null }),
    );
  }
  return out;
}

export const routesMapperReader: RouteReader = {
  name: 'routes.Mapper and route tables',
  applies: (src) =>
    /Mapper|mapper|ROUTE|routes/.test(src) &&
    (src.includes('.connect(') ||
      src.includes('.resource(') ||
      /\([ \t\n]*['"]\/[^'"\n]*['"][ \t\n]*,[ \t\n]*\{/.test(src)),
  read(ctx) {
    const out: RouteFact[] = [];
    for (const m of matches(ctx, CONNECT)) {
      // `'/%s%s' % (prefix, path)` is a format, not a path.
      if (!m[4].startsWith('/') || m[4].includes('%')) continue;
      const cond =
        /conditions[ \t]*=[ \t]*(?:dict\([ \t\n]*method[ \t]*=|\{[ \t\n]*['"]method['"][ \t]*:)[ \t\n]*([^)}\]]*)/.exec(
          m[5],
        );
      const controller = /controller[ \t]*=[ \t]*([A-Za-z_][\w.]*)/.exec(m[5]);
      out.push(
        route('routes', templateToRoutePath(m[4]), ctx.lineOf(m.index), {
          methods: cond ? methodsIn(cond[1]) : null,
          on: controller?.[1] ?? null,
        }),
      );
    }
    for (const m of matches(ctx, RESOURCE)) {
      const line = ctx.lineOf(m.index);
      out.push(route('routes', `/${m[4]}`, line), route('routes', `/${m[4]}/:id`, line));
    }
    out.push(...tableEntries(ctx));
    return out;
  },
};
