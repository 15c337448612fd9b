/**
 * Planner speed, measured against a baseline in the same run:
 *
 * 1. Generated Python trees the size of Django (~860 modules, ~130k lines)
 *    and of a 4,300-module shop (~680k lines): our scan + plan (capabilities,
 *    tables, routes, waves, cycles) versus Python's own `ast`-based scan of the
 *    same tree (test/fixtures/planner/ast_imports.py, timed inside Python so
 *    interpreter start-up is not counted against it). Both must find the same
 *    pairs.
 * 2. A 100,000-module JSON graph: read + plan, timed.
 *
 *   npm run build && node dist/bench/planner.js
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readGraphFile } from '../planner/inputs.js';
import { planCapabilities } from '../planner/capabilities.js';
import { buildPlan } from '../planner/plan.js';
import { applyScope } from '../planner/scope.js';
import { scanTree } from '../planner/scan-tree.js';
import { layeredGraph, writePythonTree } from './planner-synthetic.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Compiled to dist/bench/ or run from bench/: find the reference script either way.
const REFERENCE = [
  path.resolve(here, '../../test/fixtures/planner/ast_imports.py'),
  path.resolve(here, '../test/fixtures/planner/ast_imports.py'),
  path.resolve(process.cwd(), 'test/fixtures/planner/ast_imports.py'),
].find(existsSync);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function ms(x: number): string {
  return `${x.toFixed(1)} ms`;
}

function time<T>(fn: () => T): [T, number] {
  const t0 = process.hrtime.bigint();
  const r = fn();
  return [r, Number(process.hrtime.bigint() - t0) / 1e6];
}

const tmp = mkdtempSync(path.join(tmpdir(), 'strangler-bench-planner-'));
try {
  // --- 1. Django-sized and shop-sized trees ----------------------------------
  for (const [label, packages] of [
    ['Django-sized', 41],
    ['shop-sized', 215],
  ] as const) {
    const tree = writePythonTree(path.join(tmp, label), {
      packages,
      modulesPerPackage: 20,
      linesPerModule: 158,
      seed: 42,
    });
    console.log(`${label} generated tree: ${tree.modules} modules, ${tree.lines} lines in ${tree.root}`);

    const RUNS = 5;
    const scanTimes: number[] = [];
    const planTimes: number[] = [];
    let plan: ReturnType<typeof buildPlan> | undefined;
    let scanned: ReturnType<typeof scanTree> | undefined;
    scanTree(tree.root); // warm-up: JIT and file cache, as the Python side's first run warms its cache
    for (let i = 0; i < RUNS; i++) {
      const [s, tScan] = time(() => scanTree(tree.root));
      // what `strangler plan` does after reading: scope, capabilities, the module plan
      const [p, tPlan] = time(() => {
        const scoped = applyScope(s, false);
        const capabilities = planCapabilities({
          modules: scoped.modules,
          imports: scoped.imports,
          facts: s.facts,
        });
        return buildPlan(scoped, { capabilities });
      });
      scanned = s;
      plan = p;
      scanTimes.push(tScan);
      planTimes.push(tScan + tPlan);
    }
    const ours = median(planTimes);
    console.log(
      `strangler scan: ${ms(median(scanTimes))}, scan + plan: ${ms(ours)} (median of ${RUNS}); ` +
        `${scanned!.modules.length} modules, ${scanned!.imports.length} imports, ${plan!.candidates.length} capabilities, ${plan!.waves.length} waves, ${plan!.cycles.length} cycles`,
    );

    if (!REFERENCE) {
      console.log('python ast baseline: skipped (test/fixtures/planner/ast_imports.py not found)');
    } else {
      const pyInside: number[] = [];
      const pyWall: number[] = [];
      let ref: { modules: string[]; imports: Array<[string, string, string, number]> } | undefined;
      for (let i = 0; i < 3; i++) {
        const [out, wall] = time(() =>
          execFileSync('python3', [REFERENCE, tree.root], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }),
        );
        const parsed = JSON.parse(out);
        ref = parsed;
        pyInside.push(parsed.seconds * 1000);
        pyWall.push(wall);
      }
      const py = median(pyInside);
      console.log(
        `python ast scan: ${ms(py)} inside Python (median of 3; ${ms(median(pyWall))} with interpreter start-up)`,
      );
      console.log(
        `ratio: strangler scan + plan is ${(py / ours).toFixed(1)}x faster than Python's ast scan alone`,
      );
      const pairs = (xs: Array<[string, string]>) =>
        [...new Set(xs.map(([a, b]) => `${a} ${b}`))].sort().join('\n');
      const same =
        pairs(scanned!.imports.map((x) => [x.from, x.to])) === pairs(ref!.imports.map(([a, b]) => [a, b])) &&
        [...ref!.modules].sort().join() ===
          scanned!.modules
            .map((m) => m.name)
            .sort()
            .join();
      console.log(
        `parity with ast on the generated tree: ${same ? 'identical modules and pairs' : 'DIFFERENT (bug)'}`,
      );
      if (!same) process.exitCode = 1;
    }
  }

  // --- 2. 100,000-module graph ---------------------------------------------
  const graphFile = path.join(tmp, 'graph-100k.json');
  const spec = layeredGraph({ modules: 100_000, layers: 60, importsPerModule: 5, cycles: 200, seed: 7 });
  writeFileSync(graphFile, JSON.stringify(spec));
  const [input, tRead] = time(() => readGraphFile(graphFile));
  const [big, tBig] = time(() => buildPlan(input, { autoShared: false }));
  console.log(
    `100k-module graph: ${input.modules.length} modules, ${input.imports.length} imports; read ${ms(tRead)}, plan ${ms(tBig)} ` +
      `(${big.waves.length} waves, ${big.cycles.length} cycles, ${big.cuts.length} cuts)`,
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
