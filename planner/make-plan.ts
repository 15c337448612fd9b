/**
 * `makePlan`: the whole planner behind `strangler plan` — read the tree (or a
 * ready graph), gather the optional evidence (config routes, traffic, git
 * churn) and build the plan.
 */
import { loadConfig } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import { churnFromGit, readGraphFile, routesFromConfig, trafficFromStore } from './inputs.js';
import { buildPlan, type ChurnStats, type PlanRoute } from './plan.js';
import { collapseToDepth, scanTree } from './scan-tree.js';
import type { ModuleGraphInput, Plan } from './types.js';

export interface PlanRequest {
  /** A package folder or source root (exactly one of path / graph). */
  path?: string;
  /** A ready graph file: JSON or DOT. */
  graph?: string;
  depth?: number;
  exclude?: string[];
  shared?: string[];
  autoShared?: boolean;
  /** strangler.yaml: routes' `module:` and the store for traffic. */
  config?: string;
  /** Read git history for churn (default true for a scanned tree). */
  git?: boolean;
}

export function readModuleGraph(req: PlanRequest): ModuleGraphInput {
  if ((req.path === undefined) === (req.graph === undefined))
    throw new StranglerError('STRANGLER_E_USAGE', 'plan: give a PATH to scan or --graph FILE (not both)');
  let input =
    req.graph !== undefined ? readGraphFile(req.graph) : scanTree(req.path!, { exclude: req.exclude });
  if (req.depth !== undefined) input = collapseToDepth(input, req.depth);
  return input;
}

export async function makePlan(req: PlanRequest): Promise<Plan> {
  const input = readModuleGraph(req);
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
  let churn: ChurnStats | null = null;
  if (req.path !== undefined && req.git !== false) {
    const g = await churnFromGit(req.path, input.modules);
    churn = g.churn;
    if (g.note) notes.push(g.note);
  }
  return buildPlan(input, {
    shared: req.shared,
    autoShared: req.autoShared,
    routes,
    traffic,
    churn,
    notes,
  });
}
