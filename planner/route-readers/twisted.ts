/**
 * Twisted web resource trees: `root.putChild(b'api', rest.RestRootResource(m))`
 * mounts a resource at `/api`, and everything under it. A `self.putChild` is
 * left out: where `self` is mounted is not in the line. `putChild(b'', ...)`
 * is the index page (`/`), never a catch-all.
 */
import { matches, type RouteReader, route } from './context.js';

const PUT_CHILD =
  /\b([A-Za-z_]\w*)\.putChild\([ \t\n]*[bB]?(['"])([^'"\n]*)\2[ \t\n]*,[ \t\n]*([A-Za-z_][\w.]*)?/g;

export const twistedReader: RouteReader = {
  name: 'Twisted putChild',
  applies: (src) => src.includes('.putChild('),
  read(ctx) {
    const out = [];
    for (const m of matches(ctx, PUT_CHILD)) {
      if (m[1] === 'self') continue;
      const line = ctx.lineOf(m.index);
      const on = m[4] ?? null;
      if (m[3] === '') out.push(route('twisted', '/', line, { on }));
      else out.push(route('twisted', `/${m[3]}`, line, { on }), route('twisted', `/${m[3]}/*`, line, { on }));
    }
    return out;
  },
};
