/**
 * Tornado: the handler table of `tornado.web.Application([(r'/x/([0-9]+)',
 * XHandler), url(r'/y', YHandler)])`, written inline or as a list assigned
 * first. Patterns are regular expressions: the first variable part ends the
 * pattern in `*`.
 */
import { matches, quoted, type RouteReader, route, toRoutePath } from './context.js';

const HANDLER = new RegExp(
  String.raw`(?:\(|\burl\()[ \t\n]*${quoted(1)}[ \t\n]*,[ \t\n]*([A-Za-z_][\w.]*)[ \t\n]*[,)]`,
  'g',
);

export const tornadoReader: RouteReader = {
  name: 'Tornado Application',
  applies: (src) => src.includes('tornado') && src.includes('Application('),
  read(ctx) {
    const out = [];
    for (const m of matches(ctx, HANDLER)) {
      if (!m[2].startsWith('/') && !m[2].startsWith('^/')) continue;
      out.push(route('tornado', toRoutePath(m[2]), ctx.lineOf(m.index), { on: m[3] }));
    }
    return out;
  },
};
