/**
 * Everything the plan reads from outside the Python tree: a ready graph file
 * (JSON or Graphviz DOT), the config's routes, traffic from the proxy's
 * store, and churn from `git log`. Each optional source says plainly when it
 * has nothing ("no traffic data", "no git history") instead of failing.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../core/config.js';
import { StranglerError } from '../core/errors.js';
import type { ChurnStats, PlanRoute } from './plan.js';
import {
  IMPORT_KINDS,
  type ImportKind,
  type ImportRecord,
  type ModuleGraphInput,
  type ModuleInfo,
} from './types.js';

const run = promisify(execFile);

function inputError(file: string, message: string, cause?: unknown): StranglerError {
  return new StranglerError('STRANGLER_E_PLANNER_INPUT', `${file}: ${message}`, {
    cause,
    details: { path: file },
  });
}

/** Read `--graph FILE`: JSON `{modules:[{name}], imports:[{from,to}]}` or Graphviz DOT. */
export function readGraphFile(file: string): ModuleGraphInput {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw inputError(file, `cannot read graph: ${(err as Error).message}`, err);
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw inputError(file, `invalid JSON: ${(err as Error).message}`, err);
    }
    return graphFromJson(raw, file);
  }
  if (
    /^(strict\s+)?(di)?graph\b/i.test(trimmed.replace(/^(\/\/[^\n]*\n|#[^\n]*\n|\/\*[\s\S]*?\*\/|\s)+/, ''))
  )
    return graphFromDot(text, file);
  throw inputError(file, 'not a graph: expected JSON {modules, imports} or a Graphviz digraph');
}

export function graphFromJson(raw: unknown, file: string): ModuleGraphInput {
  const obj = raw as { modules?: unknown; imports?: unknown };
  if (!obj || typeof obj !== 'object' || Array.isArray(obj))
    throw inputError(file, '(root): expected an object');
  if (!Array.isArray(obj.modules)) throw inputError(file, 'modules: expected an array of {name}');
  if (obj.imports !== undefined && !Array.isArray(obj.imports))
    throw inputError(file, 'imports: expected an array of {from, to}');
  const modules: ModuleInfo[] = [];
  const seen = new Set<string>();
  obj.modules.forEach((m: unknown, i: number) => {
    const mod = m as { name?: unknown; file?: unknown; loc?: unknown };
    if (!mod || typeof mod.name !== 'string' || mod.name === '')
      throw inputError(file, `modules[${i}].name: expected a non-empty string`);
    if (seen.has(mod.name)) throw inputError(file, `modules[${i}].name: duplicate module "${mod.name}"`);
    seen.add(mod.name);
    modules.push({
      name: mod.name,
      file: typeof mod.file === 'string' ? mod.file : null,
      loc: typeof mod.loc === 'number' && mod.loc >= 0 ? mod.loc : 0,
    });
  });
  const imports: ImportRecord[] = [];
  ((obj.imports as unknown[]) ?? []).forEach((e: unknown, i: number) => {
    const imp = e as { from?: unknown; to?: unknown; kind?: unknown; file?: unknown; line?: unknown };
    for (const end of ['from', 'to'] as const) {
      const v = imp?.[end];
      if (typeof v !== 'string') throw inputError(file, `imports[${i}].${end}: expected a module name`);
      if (!seen.has(v)) throw inputError(file, `imports[${i}].${end}: unknown module "${v}"`);
    }
    if (imp.kind !== undefined && !IMPORT_KINDS.includes(imp.kind as ImportKind))
      throw inputError(file, `imports[${i}].kind: expected one of ${IMPORT_KINDS.join(', ')}`);
    if (imp.from === imp.to) return;
    imports.push({
      from: imp.from as string,
      to: imp.to as string,
      kind: (imp.kind as ImportKind) ?? 'top',
      file: typeof imp.file === 'string' ? imp.file : null,
      line: typeof imp.line === 'number' ? imp.line : null,
    });
  });
  return { root: file, modules, imports, problems: [] };
}

/**
 * A small DOT reader: node statements and `a -> b -> c` edge chains, quoted
 * or bare IDs; attribute lists, subgraph braces and comments are skipped.
 * Enough for graphs written by pydeps, dependency-cruiser or this tool.
 */
export function graphFromDot(text: string, file: string): ModuleGraphInput {
  const ARROW = Symbol('arrow');
  const EQ = Symbol('eq');
  const SEP = Symbol('sep');
  const items: Array<string | symbol> = [];
  const re =
    /\/\/[^\n]*|#[^\n]*|\/\*[\s\S]*?\*\/|"((?:[^"\\]|\\.)*)"|(->|--)|([A-Za-z0-9_.\u0080-\uffff]+)|(\[[^\]]*\])|(=)|([{};,])|(\s+)|(.)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[1] !== undefined) items.push(m[1].replace(/\\"/g, '"'));
    else if (m[2]) items.push(ARROW);
    else if (m[3]) items.push(m[3]);
    else if (m[5]) items.push(EQ);
    else if (m[6]) items.push(SEP);
    else if (m[8]) throw inputError(file, `DOT: unexpected character "${m[8]}"`);
    // comments, whitespace and [attribute lists] carry no nodes or edges
  }
  const KEYWORDS = new Set(['strict', 'digraph', 'graph', 'subgraph', 'node', 'edge']);
  const modules = new Map<string, ModuleInfo>();
  const imports: ImportRecord[] = [];
  const node = (name: string): void => {
    if (!modules.has(name)) modules.set(name, { name, file: null, loc: 0 });
  };
  for (let i = 0; i < items.length; i++) {
    const t = items[i];
    if (typeof t !== 'string') continue;
    if (items[i + 1] === EQ) {
      i += 2; // graph attribute: rankdir = LR
      continue;
    }
    if (KEYWORDS.has(t.toLowerCase())) {
      // `digraph NAME {` and `subgraph NAME {`: the name is not a node
      if (typeof items[i + 1] === 'string' && items[i + 2] === SEP) i++;
      continue;
    }
    node(t);
    let from = t;
    while (items[i + 1] === ARROW && typeof items[i + 2] === 'string') {
      const to = items[i + 2] as string;
      node(to);
      if (from !== to) imports.push({ from, to, kind: 'top', file: null, line: null });
      from = to;
      i += 2;
    }
  }
  if (modules.size === 0) throw inputError(file, 'DOT: no nodes found');
  return { root: file, modules: [...modules.values()], imports, problems: [] };
}

/** Routes whose config names a `module:`. */
export function routesFromConfig(config: Readonly<Config>): PlanRoute[] {
  return config.routes
    .filter((r) => r.module !== undefined)
    .map((r) => ({
      id: r.id,
      module: r.module!,
      // An extraction point is a function inside the module, called at its service's path.
      path: r.kind === 'function' ? `function ${r.match.path}` : r.match.path,
      methods: r.match.methods,
      failover: r.failover.enabled,
    }));
}

/**
 * Requests per module from the store's stats windows (routes carry
 * `module:`). Never creates a store: a missing SQLite file means no data.
 */
export async function trafficFromStore(
  config: Readonly<Config>,
): Promise<{ traffic: Map<string, number> | null; note?: string }> {
  const routes = routesFromConfig(config);
  if (routes.length === 0)
    return { traffic: null, note: 'no traffic data: no route in the config names a module' };
  if (config.store.startsWith('sqlite:')) {
    const p = config.store.slice('sqlite:'.length);
    if (p !== ':memory:' && !existsSync(p))
      return { traffic: null, note: `no traffic data: store ${p} does not exist yet` };
  }
  try {
    const { openStore } = await import('../store/open.js');
    const store = await openStore(config.store);
    try {
      const traffic = new Map<string, number>();
      let total = 0;
      for (const r of routes) {
        const windows = await store.stats.query({ route: r.id, since: 0 });
        const reqs = windows.reduce((s, w) => s + w.requests, 0);
        total += reqs;
        traffic.set(r.module, (traffic.get(r.module) ?? 0) + reqs);
      }
      return total > 0
        ? { traffic }
        : { traffic: null, note: 'no traffic data: the store has no stats for these routes yet' };
    } finally {
      await store.close();
    }
  } catch (err) {
    return { traffic: null, note: `no traffic data: store unavailable (${(err as Error).message})` };
  }
}

/** Commits and co-change per module from `git log` (last 1000 commits), or null outside a git repository. */
export async function churnFromGit(
  root: string,
  modules: ModuleInfo[],
): Promise<{ churn: ChurnStats | null; note?: string }> {
  let top: string;
  try {
    top = (await run('git', ['-C', root, 'rev-parse', '--show-toplevel'], { timeout: 10_000 })).stdout.trim();
  } catch {
    return { churn: null, note: 'no git history: not a git repository' };
  }
  let log: string;
  try {
    log = (
      await run(
        'git',
        [
          '-C',
          root,
          'log',
          '-n',
          '1000',
          '--no-merges',
          '--name-only',
          '--format=format:@@commit',
          '--',
          '.',
        ],
        {
          timeout: 30_000,
          maxBuffer: 64 * 1024 * 1024,
        },
      )
    ).stdout;
  } catch (err) {
    return { churn: null, note: `no git history: ${(err as Error).message.split('\n')[0]}` };
  }
  const byFile = new Map<string, string>();
  for (const m of modules) if (m.file) byFile.set(path.relative(top, path.resolve(root, m.file)), m.name);
  const commits = new Map<string, number>();
  const together = new Map<string, number>();
  let scanned = 0;
  for (const chunk of log.split('@@commit')) {
    const touched = new Set<string>();
    for (const line of chunk.split('\n')) {
      const mod = byFile.get(line.trim());
      if (mod) touched.add(mod);
    }
    if (chunk.trim() === '') continue;
    scanned++;
    for (const mod of touched) {
      commits.set(mod, (commits.get(mod) ?? 0) + 1);
      if (touched.size > 1) together.set(mod, (together.get(mod) ?? 0) + 1);
    }
  }
  if (commits.size === 0) return { churn: null, note: 'no git history for these files yet' };
  const coChange = new Map<string, number>();
  for (const [mod, c] of commits) coChange.set(mod, (together.get(mod) ?? 0) / c);
  return { churn: { commits, coChange, commitsScanned: scanned } };
}
