/** Route rows for `strangler routes` and the admin API's GET /routes: config joined with store state. */
import type { Config } from '../core/config.js';
import type { RouteRow } from '../reports/routes/index.js';
import type { Store } from '../store/types.js';

export async function listRouteRows(config: Readonly<Config>, store: Store): Promise<RouteRow[]> {
  const states = new Map((await store.routes.list()).map((s) => [s.id, s]));
  const rows: RouteRow[] = [];
  for (const r of config.routes) {
    const s = states.get(r.id);
    if (!s) continue;
    rows.push({ ...s, pattern: r.match.path, methods: r.match.methods ?? [], service: r.service });
  }
  return rows;
}
