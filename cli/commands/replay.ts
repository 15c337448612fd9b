import { type Command, InvalidArgumentError } from 'commander';
import type { CliIO } from '../io.js';

interface ReplayOpts {
  target: string;
  concurrency: number;
  format: string;
  out?: string;
  allowUnsafe: boolean;
  timeout: number;
  header: string[];
}

function positiveInt(field: string, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max)
      throw new InvalidArgumentError(`${field}: expected a whole number from 1 to ${max}`);
    return Number(v);
  };
}

/** Connections a replay may open to one target: a CI box, not a load test (that is `strangler loadtest`). */
const MAX_CONCURRENCY = 256;

function headerPair(v: string, prev: string[]): string[] {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+:/.test(v))
    throw new InvalidArgumentError(`--header: expected NAME: VALUE, got "${v}"`);
  return [...prev, v];
}

/**
 * A bar on a terminal (cli-progress); on a pipe or in CI, nothing until the
 * report, so logs stay readable.
 */
async function progressBar(io: CliIO, total: number): Promise<{ update(done: number): void; stop(): void }> {
  const stream = io.stderr as NodeJS.WritableStream & { isTTY?: boolean };
  if (!stream.isTTY || total === 0) return { update() {}, stop() {} };
  const cliProgress = (await import('cli-progress')).default;
  const bar = new cliProgress.SingleBar(
    { stream, format: 'replay [{bar}] {value}/{total} cases | {eta_formatted} left', hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (done) => bar.update(done), stop: () => bar.stop() };
}

export function register(program: Command, io: CliIO): void {
  program
    .command('replay')
    .summary("run recorded cases against a service build and judge its answers against legacy's")
    .description(
      'send each case of a file written by `strangler shadow export` to --target, diff the answer against the\n' +
        "recorded legacy answer with the route's ignore rules and the recorded noise (the shadow diff), and exit 0\n" +
        'when nothing but noise differs, 1 naming the differing fields with an example pair, 2 for bad input.\n' +
        'Unsafe methods run only for a route the file marks idempotent, and only with --allow-unsafe (docs/replay.md)',
    )
    .argument('<cases>', 'the case file (JSON Lines)')
    .requiredOption('--target <url>', 'base URL of the service build, e.g. http://127.0.0.1:9000')
    .option(
      '--concurrency <n>',
      'requests in flight at once',
      positiveInt('--concurrency', MAX_CONCURRENCY),
      8,
    )
    .option('--format <f>', 'output: text | json | junit | html', 'text')
    .option('--out <file>', 'write the report to FILE instead of stdout')
    .option(
      '--allow-unsafe',
      'also send unsafe methods (POST, DELETE…) of a route the file marks idempotent',
      false,
    )
    .option('--timeout <ms>', 'per-case deadline in ms', positiveInt('--timeout', 600_000), 10_000)
    .option(
      '--header <name: value>',
      'set a header on every request (repeatable), e.g. a test credential in place of a redacted one',
      headerPair,
      [],
    )
    .action(async (casesFile: string, opts: ReplayOpts) => {
      const { StranglerError } = await import('../../core/errors.js');
      const { REPLAY_FORMATS, REPLAY_REPORTERS, isReplayFormat } = await import(
        '../../reports/replay/index.js'
      );
      if (!isReplayFormat(opts.format))
        throw new StranglerError(
          'STRANGLER_E_USAGE',
          `--format: expected one of ${REPLAY_FORMATS.join(', ')}, got "${opts.format}"`,
          { details: { field: 'format' } },
        );
      const path = await import('node:path');
      const { readFile, writeFile } = await import('node:fs/promises');
      const { parseReplayFile } = await import('../../shadow/recording-format.js');
      const { replayCases, replayTarget } = await import('../../control/replay.js');
      replayTarget(opts.target);
      let text: string;
      try {
        text = await readFile(path.resolve(io.cwd, casesFile), 'utf8');
      } catch (err) {
        throw new StranglerError(
          'STRANGLER_E_REPLAY_FILE',
          `${casesFile}: cannot read: ${(err as Error).message}`,
          {
            cause: err,
            details: { file: casesFile },
          },
        );
      }
      const file = parseReplayFile(text, casesFile);
      const headers = Object.fromEntries(
        opts.header.map((h) => {
          const i = h.indexOf(':');
          return [h.slice(0, i).trim(), h.slice(i + 1).trim()];
        }),
      );
      const bar = await progressBar(io, file.cases.length);
      let result: Awaited<ReturnType<typeof replayCases>>;
      try {
        result = await replayCases(casesFile, file, {
          target: opts.target,
          concurrency: opts.concurrency,
          allowUnsafe: opts.allowUnsafe,
          timeoutMs: opts.timeout,
          headers,
          onProgress: (done) => bar.update(done),
        });
      } finally {
        bar.stop();
      }
      const out = REPLAY_REPORTERS[opts.format](result);
      if (opts.out) {
        await writeFile(path.resolve(io.cwd, opts.out), out.output);
        io.stderr.write(
          `replay report written to ${opts.out}: ${result.passed} passed, ${result.failed} failed, ${result.errors} errors\n`,
        );
      } else io.stdout.write(out.output);
      if (out.exitCode !== 0) {
        const { ExitCode } = await import('../io.js');
        throw new ExitCode(out.exitCode);
      }
    });
}
