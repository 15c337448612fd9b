import type { Command } from 'commander';
import type { CliIO } from '../io.js';

const FORMATS = ['text', 'md', 'json', 'html'] as const;
type Format = (typeof FORMATS)[number];

interface CommonOptions {
  config: string;
  format: string;
  out?: string;
}

interface RangeOptions extends CommonOptions {
  since?: string;
  step?: string;
}

function common(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option('--format <f>', `output: ${FORMATS.join(' | ')}`, 'text')
    .option('--out <file>', 'write the report to FILE instead of stdout');
}

function range(cmd: Command): Command {
  return cmd
    .option(
      '--since <d>',
      'how far back the traffic goes, e.g. 1h, 24h, 7d as 168h (default: from the first recorded traffic, at most 24h back)',
    )
    .option('--step <d>', 'width of each time bin (default: 1m/5m/15m/1h/6h/1d, at most 48 bins)');
}

async function checkFormat(f: string): Promise<Format> {
  if ((FORMATS as readonly string[]).includes(f)) return f as Format;
  const { StranglerError } = await import('../../core/errors.js');
  throw new StranglerError(
    'STRANGLER_E_USAGE',
    `--format: expected one of ${FORMATS.join(', ')}, got "${f}"`,
    {
      details: { field: 'format' },
    },
  );
}

/** Write to --out or stdout, then end with the reporter's exit code. */
async function emit(io: CliIO, opts: CommonOptions, what: string, out: { output: string; exitCode: number }) {
  if (opts.out) {
    const { writeFile } = await import('node:fs/promises');
    const path = await import('node:path');
    await writeFile(path.resolve(io.cwd, opts.out), out.output);
    io.stderr.write(`${what} report written to ${opts.out}\n`);
  } else io.stdout.write(out.output);
  if (out.exitCode !== 0) {
    const { ExitCode } = await import('../io.js');
    throw new ExitCode(out.exitCode);
  }
}

async function rangeOf(
  opts: RangeOptions,
  now: Date,
): Promise<{ since: number; stepMs?: number; fit: boolean }> {
  const { parseDuration } = await import('../../core/duration.js');
  return {
    since: now.getTime() - parseDuration(opts.since ?? '24h'),
    fit: opts.since === undefined,
    stepMs: opts.step ? parseDuration(opts.step) : undefined,
  };
}

export function register(program: Command, io: CliIO): void {
  const report = program
    .command('report')
    .description('reports on the migration, from the store: progress, latency, loadtest');

  range(
    common(
      report
        .command('progress')
        .description(
          'the migration at a glance: routes per mode, traffic served by services vs legacy over time,\n' +
            "per route mode/weight/match rate/p99/breaker/last change, and the planner's next candidates",
        ),
    ),
  ).action(async (opts: RangeOptions) => {
    const format = await checkFormat(opts.format);
    const now = new Date();
    const r = await rangeOf(opts, now);
    const { withStore } = await import('../context.js');
    const { gatherProgress } = await import('../../control/progress.js');
    const { renderProgress } = await import('../../reports/progress/index.js');
    const data = await withStore(io, opts.config, ({ config, store }) =>
      gatherProgress(store, config, { ...r, now }),
    );
    await emit(io, opts, 'progress', renderProgress(data, format, { now }));
  });

  range(
    common(
      report
        .command('latency')
        .description('per route and target: latency percentiles over time, legacy vs service side by side')
        .argument('[route]', 'one route id (default: every route)'),
    ),
  ).action(async (route: string | undefined, opts: RangeOptions) => {
    const format = await checkFormat(opts.format);
    const now = new Date();
    const r = await rangeOf(opts, now);
    const { withStore } = await import('../context.js');
    const { gatherLatency } = await import('../../control/latency.js');
    const { renderLatency } = await import('../../reports/latency/index.js');
    const data = await withStore(io, opts.config, ({ config, store }) =>
      gatherLatency(store, config, { ...r, now, route }),
    );
    await emit(io, opts, 'latency', renderLatency(data, format, { now }));
  });

  common(
    report
      .command('loadtest')
      .description('show the latest saved `strangler loadtest` run of a route again')
      .argument('<route>', 'route id'),
  ).action(async (route: string, opts: CommonOptions) => {
    const format = await checkFormat(opts.format);
    const { withStore } = await import('../context.js');
    const { renderLoadtest } = await import('../../reports/loadtest/index.js');
    const { StranglerError, unknownRouteError } = await import('../../core/errors.js');
    const { routeIds } = await import('../../control/latency.js');
    const saved = await withStore(io, opts.config, async ({ config, store }) => {
      const known = await routeIds(store, config);
      if (!known.includes(route)) throw unknownRouteError(route, known);
      return store.results.latest('loadtest', route);
    });
    if (!saved)
      throw new StranglerError(
        'STRANGLER_E_NO_LOADTEST',
        `no saved load test for route "${route}": run \`strangler loadtest ${route}\` first`,
        {
          details: { route },
        },
      );
    await emit(
      io,
      opts,
      'loadtest',
      renderLoadtest(saved.value as Parameters<typeof renderLoadtest>[0], format, { now: new Date() }),
    );
  });
}
