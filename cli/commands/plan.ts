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
  accessLog?: string;
  includeTests?: boolean;
  emitRoutes?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function register(program: Command, io: CliIO): void {
  program
    .command('plan')
    .summary('scan a Python tree and rank the capabilities to extract first, with reasons')
    .description(
      'scan a Python source tree (without running it) and rank its capabilities (Django apps,\n' +
        'Flask blueprints, features, packages) by the seed migration: dependencies on other\n' +
        'capabilities, tables owned or shared, entry points and traffic, size, blast radius.\n' +
        'Shared libraries are listed apart. Tests, migrations, settings and fixtures are left out.\n' +
        'Reads ./strangler.yaml when present (routes with module:, traffic from its store).',
    )
    .argument('[path]', 'a package folder (has __init__.py) or a source root holding packages')
    .option(
      '--graph <file>',
      'plan a ready graph instead: JSON {modules:[{name}], imports:[{from,to}]} or Graphviz DOT',
    )
    .option('--depth <n>', 'cut packages into capabilities at depth N (default: chosen from the tree)')
    .option('--exclude <glob>', 'skip files or folders matching GLOB (repeatable)', collect, [])
    .option('--include-tests', 'keep test modules in the plan (left out by default)')
    .option(
      '--shared <module>',
      'treat MODULE as a shared foundation that moves last in the module waves (repeatable)',
      collect,
      [],
    )
    .option('--no-auto-shared', 'do not detect shared foundations (modules nearly everything imports)')
    .option('--no-git', 'do not read churn from git history')
    .option('--access-log <file>', 'traffic per route from an nginx/gunicorn access log (combined format)')
    .option(
      '--emit-routes',
      'print strangler.yaml routes (with module:) for the candidates instead of the plan',
    )
    .option('--format <f>', 'output: text | json | dot | mermaid | html', 'text')
    .option('--out <file>', 'write the plan to FILE instead of stdout')
    .option(
      '-c, --config <file>',
      "strangler.yaml: routes' module: names and the store's traffic (default ./strangler.yaml when present)",
    )
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
      const { existsSync } = await import('node:fs');
      const resolve = (p: string | undefined): string | undefined =>
        p === undefined ? undefined : path.resolve(io.cwd, p);
      // Like every other command, ./strangler.yaml is the config when none is named.
      const { DEFAULT_CONFIG } = await import('../context.js');
      const implicit = opts.config === undefined && existsSync(path.resolve(io.cwd, DEFAULT_CONFIG));
      const configFile = resolve(opts.config ?? (implicit ? DEFAULT_CONFIG : undefined));
      const { makePlanWithCapabilities } = await import('../../planner/make-plan.js');
      const { plan, capabilities } = await makePlanWithCapabilities({
        path: resolve(target),
        graph: resolve(opts.graph),
        depth,
        exclude: opts.exclude,
        shared: opts.shared,
        autoShared: opts.autoShared,
        git: opts.git,
        config: configFile,
        accessLog: resolve(opts.accessLog),
        includeTests: opts.includeTests === true,
      });
      if (implicit)
        io.stderr.write(`plan: read ${DEFAULT_CONFIG} (routes' module: and the store's traffic)\n`);
      if (opts.emitRoutes) {
        const { renderRoutesYaml } = await import('../../planner/emit-routes.js');
        io.stdout.write(renderRoutesYaml(plan.candidates, capabilities.entryPoints));
        return;
      }
      if (configFile) await savePlan(io, configFile, implicit, plan);
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

/**
 * Keep the plan in the store so `strangler report progress` can show the next
 * candidates beside the routes' state. A config found implicitly never
 * creates a store (a read command must not leave one behind).
 */
async function savePlan(
  io: CliIO,
  configFile: string,
  implicit: boolean,
  plan: import('../../planner/types.js').Plan,
): Promise<void> {
  const path = await import('node:path');
  const { existsSync } = await import('node:fs');
  const { loadConfig } = await import('../../core/config.js');
  const { openStore } = await import('../../store/open.js');
  const { PLAN_REPORTERS } = await import('../../reports/plan/index.js');
  const { isStranglerError } = await import('../../core/errors.js');
  const store = loadConfig(configFile).store;
  if (implicit && store.startsWith('sqlite:') && !existsSync(store.slice('sqlite:'.length))) return;
  // Only `serve` and `strangler seed` create a store: without one the plan is printed, not saved.
  const opened = await openStore(store, { create: false }).catch((err: unknown) => {
    if (
      !isStranglerError(err, 'STRANGLER_E_STORE_LOST') &&
      !isStranglerError(err, 'STRANGLER_E_STORE_MISSING')
    )
      throw err;
    io.stderr.write(`plan not saved: ${err.message}\n`);
    return undefined;
  });
  if (!opened) return;
  try {
    await opened.results.put('plan', path.basename(plan.root), JSON.parse(PLAN_REPORTERS.json(plan).output));
  } finally {
    await opened.close();
  }
  io.stderr.write('plan saved to the store (shown by strangler report progress)\n');
}
