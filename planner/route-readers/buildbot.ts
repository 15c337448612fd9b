/**
 * Buildbot data API endpoints: an endpoint class lists its paths in
 * `pathPatterns = """ /builders/n:builderid ... """` (`n:`, `i:`, `s:`
 * typed variables). Buildbot serves them under `/api/v2` (www/rest.py:
 * `RestRootResource` is mounted at `api` and `V2RootResource` registers as
 * version 2), so that is their prefix. Read only in a tree that defines
 * `Endpoint` subclasses with such patterns.
 */
import { type RouteReader, route } from './context.js';

const PATTERNS = /^[ \t]+pathPatterns[ \t]*=[ \t]*[rbuRBU]{0,2}("""|''')([\s\S]*?)\1/gm;
/** The prefix the data API is served under (see the file comment). */
export const BUILDBOT_API_PREFIX = '/api/v2';

export const buildbotReader: RouteReader = {
  name: 'Buildbot endpoint pathPatterns',
  applies: (src) => src.includes('pathPatterns'),
  read(ctx) {
    const out = [];
    PATTERNS.lastIndex = 0;
    for (let m = PATTERNS.exec(ctx.src); m !== null; m = PATTERNS.exec(ctx.src)) {
      if (ctx.inString(m.index)) continue;
      const line = ctx.lineOf(m.index);
      for (const p of m[2].split(/\s+/)) {
        if (!p.startsWith('/')) continue;
        const segs = p.split('/').map((s) => (/^[a-z]+:/.test(s) ? `:${s.slice(s.indexOf(':') + 1)}` : s));
        out.push(route('buildbot', `${BUILDBOT_API_PREFIX}${segs.join('/')}`, line, { methods: null }));
      }
    }
    return out;
  },
};
