/**
 * `makePlan`: the whole planner behind `strangler plan` — read the tree (or a
 * ready graph), leave out tests, migrations and settings, gather the optional
 * evidence (config routes, traffic from the store or an access log, git
 * churn), rank the capabilities and build the module plan beside them.
 */
import { loadConfig } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import { readAccessLog } from './access-log.js';
import { type CapabilityPlan, planCapabilities } from './capabilities.js';
import { churnFromGit, readGraphFile, routesFromConfig, trafficFromStore } from './inputs.js';
import { buildPlan, type ChurnStats, type PlanRoute } from './plan.js';
import type { ModuleFacts } from './python-facts.js';
import { collapseToDepth, scanTree } from './scan-tree.js';
import { applyScope } from './scope.js';
import type { ModuleGraphInput, Plan } from './types.js';

export interface PlanRequest {
  /** A package folder or source root (exactly one of path / graph). */
  path?: string;
  /** A ready graph file: JSON or DOT. */
  graph?: string;
  /** Package depth for capabilities, and modules collapsed to it in the module plan. */
  depth?: number;
  exclude?: string[];
  shared?: string[];
  autoShared?: boolean;
  /** strangler.yaml: routes' `module:` and the store for traffic. */
  config?: string;
  /** nginx/gunicorn combined-format access log: traffic per route pattern. */
  accessLog?: string;
  /** Keep tests in the plan (left out by default, like migrations and settings). */
  includeTests?: boolean;
  /** Read git history for churn (default true for a scanned tree). */
  git?: boolean;
}

export interface PlanResult {
  plan: Plan;
  capabilities: CapabilityPlan;
}

/** The module graph (scoped), and what its files say about tables and routes. */
export function readModuleGraph(
  req: PlanRequest,
): ModuleGraphInput & { facts: ReadonlyMap<string, ModuleFacts>; leftOut: string[] } {
  if ((req.path === undefined) === (req.graph === undefined))
    throw new StranglerError('STRANGLER_E_USAGE', 'plan: give a PATH to scan or --graph FILE (not both)');
  const read =
    req.graph !== undefined
      ? { ...readGraphFile(req.graph), facts: new Map<string, ModuleFacts>() }
      : scanTree(req.path!, { exclude: req.exclude });
  return applyScope(read, req.includeTests === true);
}

export async function makePlan(req: PlanRequest): Promise<Plan> {
  return (await makePlanWithCapabilities(req)).plan;
}

export async function makePlanWithCapabilities(req: PlanRequest): Promise<PlanResult> {
  const scoped = readModuleGraph(req);
  const input = req.depth !== undefined ? collapseToDepth(scoped, req.depth) : scoped;
  const notes: string[] = [];
  if (req.depth !== undefined) notes.push(`modules collapsed to depth ${req.depth}`);
  let routes: PlanRoute[] = [];
  let traffic: Map<string, number> | null = null;
  if (req.config !== undefined) {
    const config = loadConfig(req.config);
    routes = routesFromConfig(config);
    const t = await trafficFromStore(config);
    traffic = t.traffic;
    if (t.note) notes.push(t.note);
  }
  let accessLog: Map<string, number> | null = null;
  if (req.accessLog !== undefined) {
    const log = await readAccessLog(req.accessLog);
    accessLog = log.paths;
    notes.push(
      `access log ${req.accessLog}: ${log.requests} requests${log.skipped > 0 ? `, ${log.skipped} line${log.skipped === 1 ? '' : 's'} not in combined format (skipped)` : ''}${traffic ? ' (the store has traffic: the log is not used)' : ''}`,
    );
  }
  let churn: ChurnStats | null = null;
  if (req.path !== undefined && req.git !== false) {
    const g = await churnFromGit(req.path, input.modules);
    churn = g.churn;
    if (g.note) notes.push(g.note);
  }
  const capabilities = planCapabilities({
    modules: scoped.modules,
    imports: scoped.imports,
    facts: scoped.facts,
    evidence: req.graph === undefined,
    leftOut: scoped.leftOut,
    depth: req.depth,
    routes,
    traffic,
    accessLog,
  });
  const plan = buildPlan(input, {
    shared: req.shared,
    autoShared: req.autoShared,
    routes,
    traffic,
    churn,
    notes,
    capabilities,
  });
  return { plan, capabilities };
}
