/**
 * `strangler plan --emit-routes`: the candidates' entry points as
 * strangler.yaml routes to paste, each with `module:` set so later plans read
 * its traffic, in `legacy` mode (nothing moves until an audited flip);
 * never a catch-all (`/*`) that would move the whole site, never a DEBUG-only
 * route (planner/entry-points.ts `routesToEmit`). One
 * service per candidate, named after it; routes the config already has
 * (source `config`) are not repeated.
 */
import { stringify } from 'yaml';
import { type EntryPoint, routesToEmit } from './entry-points.js';
import type { PlanCandidate } from './types.js';

/** A config id from a capability name: `hyperkitty:thread` -> `hyperkitty-thread`. */
export function routeIdOf(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'capability';
}

/** The module a route's `module:` names: a module of the capability (its package when it is one). */
function moduleOf(c: PlanCandidate): string {
  if (c.modules.includes(c.name)) return c.name;
  return [...c.modules].sort((a, b) => a.length - b.length || (a < b ? -1 : 1))[0];
}

export function renderRoutesYaml(
  candidates: PlanCandidate[],
  entryPoints: Map<string, EntryPoint[]>,
): string {
  const services: Record<string, { url: string }> = {};
  const routes: Array<Record<string, unknown>> = [];
  let skipped = 0;
  // A pattern goes to the first capability in plan order that
  // claims it: a config refuses two routes on one pattern, and folding can make them.
  const claimed = new Map<string, string>();
  const dropped: string[] = [];
  const refused: string[] = [];
  for (const c of candidates) {
    const points = (entryPoints.get(c.name) ?? []).filter((p) => p.source !== 'config');
    if (points.length === 0) {
      if ((entryPoints.get(c.name) ?? []).length === 0) skipped++;
      continue;
    }
    const service = `${routeIdOf(c.name.split(/[.:]/).pop() ?? c.name)}-service`;
    const choice = routesToEmit(points);
    refused.push(...choice.refused.map((r) => `${r} of ${c.name}`));
    const emitted = choice.routes.filter((r) => {
      const owner = claimed.get(r.path);
      if (owner === undefined) {
        claimed.set(r.path, c.name);
        return true;
      }
      dropped.push(`${r.path} of ${c.name} (already ${owner}'s)`);
      return false;
    });
    if (emitted.length === 0) continue;
    services[service] = { url: `http://127.0.0.1:${9001 + Object.keys(services).length}` };
    emitted.forEach((r, i) => {
      routes.push({
        id: `${routeIdOf(c.name)}${emitted.length > 1 ? `-${i + 1}` : ''}`,
        match: r.methods ? { path: r.path, methods: r.methods } : { path: r.path },
        service,
        module: moduleOf(c),
        mode: 'legacy',
      });
    });
  }
  const head = [
    "# Routes for strangler.yaml from `strangler plan --emit-routes`, in the plan's order.",
    '# Every route starts in legacy mode: nothing moves until an audited flip.',
    '# Set each service url before `strangler serve`; module: lets later plans read its traffic.',
  ];
  if (skipped > 0)
    head.push(`# ${skipped} candidate${skipped === 1 ? '' : 's'} without an entry point left out.`);
  if (dropped.length > 0) head.push(`# Left out, one route per pattern: ${dropped.join('; ')}.`);
  if (refused.length > 0) head.push(`# Never emitted: ${refused.join('; ')}.`);
  if (routes.length === 0)
    return `${head.join('\n')}\n# No candidate has a URL pattern or Flask route to emit.\n`;
  return `${head.join('\n')}\n${stringify({ services, routes })}`;
}
