/**
 * Starlette and FastAPI route tables: `Route('/x/{id}', endpoint,
 * methods=['GET'])`, `WebSocketRoute(...)`, `Mount('/static', ...)`.
 * (`@app.get('/x')` and `APIRouter(prefix=...)` are read with Flask's
 * decorator and blueprint forms in python-facts.ts.)
 */
import { matches, methodsIn, quoted, type RouteReader, route, templateToRoutePath } from './context.js';

const ROUTE = new RegExp(
  String.raw`\b(Route|WebSocketRoute|Mount|Host)\([ \t\n]*(?:path[ \t]*=[ \t]*)?${quoted(2)}[ \t\n]*(?:,[ \t\n]*(?:endpoint[ \t]*=[ \t]*)?([A-Za-z_][\w.]*)\b(?![ \t]*=))?([^\n]*)`,
  'g',
);

export const starletteReader: RouteReader = {
  name: 'Starlette/FastAPI Route',
  applies: (src) => src.includes('starlette') || src.includes('fastapi'),
  read(ctx) {
    const out = [];
    for (const m of matches(ctx, ROUTE)) {
      if (m[1] === 'Host' || !m[3].startsWith('/')) continue;
      const base = templateToRoutePath(m[3]);
      const path = m[1] === 'Mount' ? `${base.replace(/\/?\*?$/, '')}/*` : base;
      const methods = /methods[ \t]*=[ \t]*([[({][^\])}]*)/.exec(m[5]);
      out.push(
        route('starlette', path, ctx.lineOf(m.index), {
          methods: methods ? methodsIn(methods[1]) : null,
          on: m[4] ?? null,
        }),
      );
    }
    return out;
  },
};
