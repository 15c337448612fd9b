import type { Command } from 'commander';
import type { CliIO } from '../io.js';

interface PlanOptions {
  graph?: string;
  depth?: string;
  exclude: string[];
  shared: string[];
  autoShared: boolean;
  git: boolean;
  format: string;
  out?: string;
  config?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function register(program: Command, io: CliIO): void {
  program
    .command('plan')
    .summary('scan a Python tree and print a leaf-first extraction plan with reasons')
    .description(
      'scan a Python source tree (without running it) and print a leaf-first extraction plan:\n' +
        'waves, the order inside each wave with reasons, import cycles and the imports to cut',
    )
    .argument('[path]', 'a package folder (has __init__.py) or a source root holding packages')
    .option(
      '--graph <file>',
      'plan a ready graph instead: JSON {modules:[{name}], imports:[{from,to}]} or Graphviz DOT',
    )
    .option('--depth <n>', 'collapse modules to their package at depth N')
    .option('--exclude <glob>', 'skip files or folders matching GLOB (repeatable)', collect, [])
    .option(
      '--shared <module>',
      'treat MODULE as a shared foundation that moves last (repeatable)',
      collect,
      [],
    )
    .option('--no-auto-shared', 'do not detect shared foundations (modules nearly everything imports)')
    .option('--no-git', 'do not read churn from git history')
    .option('--format <f>', 'output: text | json | dot | mermaid | html', 'text')
    .option('--out <file>', 'write the plan to FILE instead of stdout')
    .option('-c, --config <file>', "strangler.yaml: routes' module: names and the store's traffic")
    .action(async (target: string | undefined, opts: PlanOptions) => {
      const { StranglerError } = await import('../../core/errors.js');
      const { PLAN_FORMATS, PLAN_REPORTERS, isPlanFormat } = await import('../../reports/plan/index.js');
      if (!isPlanFormat(opts.format))
        throw new StranglerError(
          'STRANGLER_E_USAGE',
          `--format: expected one of ${PLAN_FORMATS.join(', ')}, got "${opts.format}"`,
          {
            details: { field: 'format' },
          },
        );
      let depth: number | undefined;
      if (opts.depth !== undefined) {
        depth = Number(opts.depth);
        if (!Number.isInteger(depth) || depth < 1)
          throw new StranglerError(
            'STRANGLER_E_USAGE',
            `--depth: expected a whole number >= 1, got "${opts.depth}"`,
            {
              details: { field: 'depth' },
            },
          );
      }
      const path = await import('node:path');
      const resolve = (p: string | undefined): string | undefined =>
        p === undefined ? undefined : path.resolve(io.cwd, p);
      const { makePlan } = await import('../../planner/make-plan.js');
      const plan = await makePlan({
        path: resolve(target),
        graph: resolve(opts.graph),
        depth,
        exclude: opts.exclude,
        shared: opts.shared,
        autoShared: opts.autoShared,
        git: opts.git,
        config: resolve(opts.config),
      });
      if (opts.config) {
        // Keep the plan in the store so `strangler report progress` can show
        // the next candidates beside the routes' state.
        const { loadConfig } = await import('../../core/config.js');
        const { openStore } = await import('../../store/open.js');
        const { isStranglerError } = await import('../../core/errors.js');
        // Only `serve` and `strangler seed` create a store: without one the plan is printed, not saved.
        const store = await openStore(loadConfig(resolve(opts.config)!).store, { create: false }).catch((err: unknown) => {
          if (!isStranglerError(err, 'STRANGLER_E_STORE_LOST')) throw err;
          io.stderr.write(`plan not saved: ${err.message}\n`);
          return undefined;
        });
        if (store) {
          try {
            await store.results.put('plan', path.basename(plan.root), JSON.parse(PLAN_REPORTERS.json(plan).output));
          } finally {
            await store.close();
          }
          io.stderr.write('plan saved to the store (shown by strangler report progress)\n');
        }
      }
      const out = PLAN_REPORTERS[opts.format](plan, {
        title: `Extraction plan: ${path.basename(plan.root)}`,
      });
      if (opts.out) {
        const { writeFile } = await import('node:fs/promises');
        await writeFile(path.resolve(io.cwd, opts.out), out.output);
        io.stderr.write(`plan written to ${opts.out}\n`);
      } else io.stdout.write(out.output);
      if (out.exitCode !== 0) {
        const { ExitCode } = await import('../io.js');
        throw new ExitCode(out.exitCode);
      }
    });
}
