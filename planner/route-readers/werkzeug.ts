/**
 * werkzeug routing: `Map([Rule('/x/<int:id>', endpoint='x', methods=['GET'])])`
 * and `url_map.add(Rule(...))`. (A werkzeug app's `@app.route` decorator
 * — trytond's TrytondWSGI — is read with Flask's form.)
 */
import { matches, methodsIn, quoted, type RouteReader, route, templateToRoutePath } from './context.js';

const RULE = new RegExp(String.raw`\bRule\([ \t\n]*${quoted(1)}([^)]*)`, 'g');

export const werkzeugReader: RouteReader = {
  name: 'werkzeug Rule',
  applies: (src) => src.includes('Rule(') && src.includes('werkzeug'),
  read(ctx) {
    const out = [];
    for (const m of matches(ctx, RULE)) {
      if (!m[2].startsWith('/')) continue;
      const methods = /methods[ \t]*=[ \t]*([[({][^\])}]*)/.exec(m[3]);
      const endpoint = /endpoint[ \t]*=[ \t]*([A-Za-z_][\w.]*)/.exec(m[3]);
      out.push(
        route('werkzeug', templateToRoutePath(m[2]), ctx.lineOf(m.index), {
          methods: methods ? methodsIn(methods[1]) : null,
          on: endpoint?.[1] ?? null,
        }),
      );
    }
    return out;
  },
};
