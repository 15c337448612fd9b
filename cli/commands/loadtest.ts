import { type Command, InvalidArgumentError } from 'commander';
import type { LoadtestProgress } from '../../control/loadtest.js';
import type { CliIO } from '../io.js';

type CliProgressModule = typeof import('cli-progress');

/**
 * A bar per target on a terminal (cli-progress); plain lines otherwise, so CI
 * logs and pipes get one readable line per target instead of escape codes.
 */
function progressView(
  stream: CliIO['stderr'],
  route: string,
  cliProgress: CliProgressModule,
): { update: (p: LoadtestProgress) => void; stop: () => void } {
  if (!stream.isTTY) {
    let announced: string | undefined;
    return {
      update: (p) => {
        if (announced !== p.target) {
          announced = p.target;
          stream.write(`loadtest ${route}: ${p.target} (${p.index}/${p.of}) running for ${p.durationS} s\n`);
        }
        if (p.done)
          stream.write(
            `loadtest ${route}: ${p.target} (${p.index}/${p.of}) done: ${p.responses} responses in ${p.elapsedS.toFixed(1)} s\n`,
          );
      },
      stop: () => {},
    };
  }
  let bar: InstanceType<CliProgressModule['SingleBar']> | undefined;
  let current: string | undefined;
  return {
    update: (p) => {
      if (current !== p.target) {
        bar?.stop();
        current = p.target;
        bar = new cliProgress.SingleBar(
          {
            stream: stream as NodeJS.WritableStream,
            format: `${p.target.padEnd(7)} (${p.index}/${p.of}) [{bar}] {value}/{total} s | {responses} responses`,
            hideCursor: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(Math.ceil(p.durationS), 0, { responses: 0 });
      }
      bar!.update(Math.floor(p.elapsedS), { responses: p.responses });
      if (p.done) {
        bar!.update(Math.ceil(p.durationS), { responses: p.responses });
        bar!.stop();
        bar = undefined;
        current = undefined;
      }
    },
    stop: () => bar?.stop(),
  };
}

function positiveInt(field: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1)
      throw new InvalidArgumentError(`${field}: expected a whole number >= 1`);
    return Number(v);
  };
}

const FORMATS = ['text', 'md', 'json', 'html'];

export function register(program: Command, io: CliIO): void {
  program
    .command('loadtest')
    .summary('load-test a route: legacy vs service vs through the proxy, side by side')
    .description(
      "drive the same load (autocannon) at a route's legacy target, its service and through the proxy, one after\n" +
        'another, and print them side by side with the service/legacy and proxy/direct ratios; saved to the store',
    )
    .argument('<route>', 'route id')
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option('--connections <n>', 'concurrent connections', positiveInt('--connections'), 50)
    .option('--duration <d>', 'per target, e.g. 30s, 500ms, 2m', '30s')
    .option(
      '--rate <n>',
      'cap on requests/s over all connections (default: as fast as answered)',
      positiveInt('--rate'),
    )
    .option(
      '--targets <list>',
      'comma-separated: legacy,service,proxy (the proxy at config listen must be running)',
    )
    .option('--body <file>', 'request body read from FILE (content-type json when it parses as JSON)')
    .option('--method <m>', "HTTP method (default GET if the route allows it, else the route's first method)")
    .option(
      '--path <p>',
      "request path (default: the route's match.path with each :param and a trailing * replaced by 1, e.g. /api/block/* -> /api/block/1)",
    )
    .option('--format <f>', `output: ${FORMATS.join(' | ')}`, 'text')
    .option('--out <file>', 'write the report to FILE instead of stdout')
    .action(
      async (
        route: string,
        opts: {
          config: string;
          connections: number;
          duration: string;
          rate?: number;
          targets?: string;
          body?: string;
          method?: string;
          path?: string;
          format: string;
          out?: string;
        },
      ) => {
        const { StranglerError } = await import('../../core/errors.js');
        if (!FORMATS.includes(opts.format))
          throw new StranglerError(
            'STRANGLER_E_USAGE',
            `--format: expected one of ${FORMATS.join(', ')}, got "${opts.format}"`,
          );
        const { parseDuration } = await import('../../core/duration.js');
        const { withStore } = await import('../context.js');
        const lt = await import('../../control/loadtest.js');
        const { renderLoadtest } = await import('../../reports/loadtest/index.js');
        const cliProgress = (await import('cli-progress')).default;
        const path = await import('node:path');
        const durationMs = parseDuration(opts.duration);
        const targets = opts.targets ? lt.parseTargets(opts.targets) : undefined;
        const body = opts.body ? await lt.readBodyFile(path.resolve(io.cwd, opts.body)) : undefined;
        const view = progressView(io.stderr, route, cliProgress);
        const result = await withStore(io, opts.config, async ({ config, store }) => {
          try {
            return await lt.runLoadtest({
              config,
              store,
              route,
              targets,
              connections: opts.connections,
              durationS: durationMs / 1000,
              rate: opts.rate ?? null,
              method: opts.method,
              path: opts.path,
              body,
              onProgress: view.update,
            });
          } finally {
            view.stop();
          }
        });
        const out = renderLoadtest(result, opts.format as 'text', { now: new Date() });
        if (opts.out) {
          const { writeFile } = await import('node:fs/promises');
          await writeFile(path.resolve(io.cwd, opts.out), out.output);
          io.stderr.write(`loadtest ${route}: report written to ${opts.out}\n`);
        } else io.stdout.write(out.output);
        if (out.exitCode !== 0) {
          const { ExitCode } = await import('../io.js');
          throw new ExitCode(out.exitCode);
        }
      },
    );
}
