/**
 * Pyramid: `config.add_route('home', '/')`, `config.add_route(name='x',
 * pattern='/x/{id}', request_method='GET')`. The view is attached by name
 * elsewhere (`@view_config(route_name=...)`), so the route belongs to the
 * module that configures it.
 */
import { matches, methodsIn, quoted, type RouteReader, route, templateToRoutePath } from './context.js';

const ADD_ROUTE = new RegExp(
  String.raw`\.add_route\([ \t\n]*(?:name[ \t]*=[ \t]*)?${quoted(1)}[ \t\n]*,[ \t\n]*(?:pattern[ \t]*=[ \t]*)?${quoted(3)}([^)\n]*)`,
  'g',
);

export const pyramidReader: RouteReader = {
  name: 'Pyramid add_route',
  applies: (src) => src.includes('.add_route(') && src.includes('pyramid'),
  read(ctx) {
    const out = [];
    for (const m of matches(ctx, ADD_ROUTE)) {
      const rest = /request_method[ \t]*=[ \t]*([^=]*)/.exec(m[5]);
      out.push(
        route('pyramid', templateToRoutePath(m[4]), ctx.lineOf(m.index), {
          methods: rest ? methodsIn(rest[1]) : null,
        }),
      );
    }
    return out;
  },
};
