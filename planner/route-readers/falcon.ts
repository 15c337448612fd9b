/**
 * Falcon: `app.add_route('/lists/{list_id}', ListResource())` and
 * `app.add_sink(handler, '/prefix')`. The route belongs to the resource's
 * module when the resource is an imported name.
 */
import { matches, quoted, type RouteReader, route, templateToRoutePath } from './context.js';

const ADD_ROUTE = new RegExp(
  String.raw`\.add_route\([ \t\n]*${quoted(1)}[ \t\n]*,[ \t\n]*([A-Za-z_][\w.]*)?`,
  'g',
);
const ADD_SINK = new RegExp(
  String.raw`\.add_sink\([ \t\n]*[A-Za-z_][\w.]*[ \t\n]*,[ \t\n]*${quoted(1)}`,
  'g',
);

export const falconReader: RouteReader = {
  name: 'Falcon add_route',
  applies: (src) => src.includes('.add_route(') || src.includes('.add_sink('),
  read(ctx) {
    const out = [];
    // aiohttp's add_route('GET', '/path', h) names a method first: that reader's.
    for (const m of matches(ctx, ADD_ROUTE))
      if (m[2].startsWith('/'))
        out.push(route('falcon', templateToRoutePath(m[2]), ctx.lineOf(m.index), { on: m[3] ?? null }));
    for (const m of matches(ctx, ADD_SINK)) {
      const base = templateToRoutePath(m[2]).replace(/\/$/, '');
      out.push(route('falcon', `${base}/*`, ctx.lineOf(m.index)));
    }
    return out;
  },
};
