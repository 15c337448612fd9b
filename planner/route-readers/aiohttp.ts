/**
 * aiohttp: `app.router.add_get('/x', handler)`, `router.add_route('POST',
 * '/x', handler)` and the route table `web.get('/x', handler)` inside
 * `app.add_routes([...])`. (`@routes.get('/x')` decorators are read with
 * Flask's decorator form.)
 */
import { HTTP_METHODS, matches, quoted, type RouteReader, route, templateToRoutePath } from './context.js';

const ADD_VERB = new RegExp(
  String.raw`\.add_(get|post|put|patch|delete|head|options)\([ \t\n]*${quoted(2)}[ \t\n]*(?:,[ \t\n]*([A-Za-z_][\w.]*))?`,
  'g',
);
const ADD_ROUTE = new RegExp(
  String.raw`\.add_route\([ \t\n]*${quoted(1)}[ \t\n]*,[ \t\n]*${quoted(3)}[ \t\n]*(?:,[ \t\n]*([A-Za-z_][\w.]*))?`,
  'g',
);
const WEB_VERB = new RegExp(
  String.raw`\bweb\.(get|post|put|patch|delete|head|route|view)\([ \t\n]*(?:${quoted(2)}[ \t\n]*,[ \t\n]*)?${quoted(4)}[ \t\n]*(?:,[ \t\n]*([A-Za-z_][\w.]*))?`,
  'g',
);

export const aiohttpReader: RouteReader = {
  name: 'aiohttp router',
  applies: (src) => src.includes('aiohttp') || src.includes('.add_get('),
  read(ctx) {
    const out = [];
    for (const m of matches(ctx, ADD_VERB))
      out.push(
        route('aiohttp', templateToRoutePath(m[3]), ctx.lineOf(m.index), {
          methods: [m[1].toUpperCase()],
          on: m[4] ?? null,
        }),
      );
    for (const m of matches(ctx, ADD_ROUTE)) {
      const verb = m[2].toUpperCase();
      if (!m[4].startsWith('/')) continue;
      out.push(
        route('aiohttp', templateToRoutePath(m[4]), ctx.lineOf(m.index), {
          methods: HTTP_METHODS.has(verb) ? [verb] : null,
          on: m[5] ?? null,
        }),
      );
    }
    for (const m of matches(ctx, WEB_VERB)) {
      const verb = m[1] === 'route' ? (m[3] ?? '').toUpperCase() : m[1].toUpperCase();
      if (!m[5].startsWith('/')) continue;
      out.push(
        route('aiohttp', templateToRoutePath(m[5]), ctx.lineOf(m.index), {
          methods: HTTP_METHODS.has(verb) ? [verb] : null,
          on: m[6] ?? null,
        }),
      );
    }
    return out;
  },
};
