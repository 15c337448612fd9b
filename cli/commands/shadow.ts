import type { Command } from 'commander';
import type { CliIO } from '../io.js';

interface ReportOpts {
  format: string;
  out?: string;
  config: string;
}

export function register(program: Command, io: CliIO): void {
  const shadow = program
    .command('shadow')
    .description('shadow comparison evidence: report it, reset it, export its recorded cases');

  shadow
    .command('report')
    .description(
      'per route: match rate after noise, compared and skipped counts, top differing fields with an example pair,\n' +
        'noise fields, and legacy vs service latency (p50/p95/p99) from the same paired requests',
    )
    .argument('[route]', 'only this route')
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option('--format <f>', 'output: text | md | json | html', 'text')
    .option('--out <file>', 'write the report to FILE instead of stdout')
    .action(async (routeId: string | undefined, opts: ReportOpts) => {
      const { StranglerError, unknownRouteError } = await import('../../core/errors.js');
      const { REPORT_FORMATS } = await import('../../reports/types.js');
      const { SHADOW_REPORTERS, isShadowFormat } = await import('../../reports/shadow/index.js');
      if (!isShadowFormat(opts.format))
        throw new StranglerError(
          'STRANGLER_E_USAGE',
          `--format: expected one of ${REPORT_FORMATS.join(', ')}, got "${opts.format}"`,
          {
            details: { field: 'format' },
          },
        );
      const { withStore } = await import('../context.js');
      const { summariseRoute } = await import('../../shadow/evidence.js');
      const data = await withStore(io, opts.config, async ({ config, store }) => {
        const routes = routeId ? config.routes.filter((r) => r.id === routeId) : config.routes;
        if (routeId && routes.length === 0)
          throw unknownRouteError(
            routeId,
            config.routes.map((r) => r.id),
            `in ${opts.config}`,
          );
        const reports = [];
        for (const r of routes)
          reports.push(summariseRoute(await store.shadow.evidence(r.id, { fieldExamples: true }), r));
        return { generatedAt: new Date().toISOString(), routes: reports };
      });
      const out = SHADOW_REPORTERS[opts.format](data, { width: (io.stdout as { columns?: number }).columns });
      if (opts.out) {
        const path = await import('node:path');
        const { writeFile } = await import('node:fs/promises');
        await writeFile(path.resolve(io.cwd, opts.out), out.output);
        io.stderr.write(`shadow report written to ${opts.out}\n`);
      } else io.stdout.write(out.output);
      if (out.exitCode !== 0) {
        const { ExitCode } = await import('../io.js');
        throw new ExitCode(out.exitCode);
      }
    });

  shadow
    .command('export')
    .description(
      "write a route's recorded cases (shadow.record) as a replay case file: a header line with the route's\n" +
        'rules and the noise known now, then one case a line, oldest first, keys sorted: the same recording\n' +
        'exports to the same bytes. Run it with `strangler replay FILE --target URL` (docs/replay.md)',
    )
    .argument('<route>', 'the route whose cases are exported')
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option('--out <file>', 'write to FILE (replaced whole) instead of stdout')
    .action(async (routeId: string, opts: { config: string; out?: string }) => {
      const { configuredRoute } = await import('../../core/config.js');
      const { withStore } = await import('../context.js');
      const { noiseNow } = await import('../../shadow/recording.js');
      const { formatReplayFile } = await import('../../shadow/recording-format.js');
      type Stored = import('../../shadow/recording-format.js').StoredCase;
      const { text, cases } = await withStore(io, opts.config, async ({ config, store }) => {
        const route = configuredRoute(config, routeId);
        const stored = (await store.recordings.list(route.id)).map((e) => e.value as Stored);
        return {
          text: formatReplayFile(route.id, stored, await noiseNow(store, route)),
          cases: stored.length,
        };
      });
      if (cases === 0) {
        io.stderr.write(
          `no recorded cases for ${routeId}: turn on shadow.record.enabled for it and send shadowed traffic first (docs/replay.md)\n`,
        );
        const { ExitCode } = await import('../io.js');
        throw new ExitCode(1);
      }
      if (!opts.out) {
        io.stdout.write(text);
        return;
      }
      const path = await import('node:path');
      const { rename, writeFile } = await import('node:fs/promises');
      const dest = path.resolve(io.cwd, opts.out);
      // Written beside, then renamed: a reader (or a crash) never sees half a file.
      const tmp = `${dest}.${process.pid}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, dest);
      io.stderr.write(`${cases} cases of ${routeId} written to ${opts.out}\n`);
    });

  shadow
    .command('reset')
    .description(
      "clear a route's shadow evidence (counters, noise, samples, latency); audited as shadow.reset",
    )
    .argument('<route>', 'the route whose evidence is cleared')
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option('--reason <text>', 'why (recorded in the audit log)', 'evidence reset')
    .option(
      '--recording',
      "also delete the route's recorded cases (shadow.record), e.g. after the data they saw moved on",
    )
    .action(async (routeId: string, opts: { config: string; reason: string; recording?: boolean }) => {
      const { unknownRouteError } = await import('../../core/errors.js');
      const { withStore, cliActor } = await import('../context.js');
      await withStore(io, opts.config, async ({ config, store }) => {
        if (!config.routes.some((r) => r.id === routeId) && !(await store.routes.get(routeId)))
          throw unknownRouteError(
            routeId,
            config.routes.map((r) => r.id),
          );
        const before = await store.shadow.evidence(routeId);
        const recorded = opts.recording ? await store.recordings.size(routeId) : undefined;
        await store.shadow.reset(routeId);
        if (recorded) await store.recordings.reset(routeId);
        // What was thrown away goes into the audit row, so a reset never hides evidence silently.
        await store.audit.append({
          actor: cliActor(io),
          route: routeId,
          action: 'shadow.reset',
          before: null,
          after: null,
          reason: opts.reason,
          details: {
            compared: before.compared,
            matched: before.matched,
            skipped: before.skipped,
            noisePairs: before.noisePairs,
            samples: before.samples.length,
            ...(recorded ? { recordedCases: recorded.cases, recordedBytes: recorded.bytes } : {}),
          },
        });
        io.stdout.write(
          `shadow evidence of ${routeId} cleared (${before.compared} comparisons` +
            (recorded ? `, ${recorded.cases} recorded cases` : '') +
            ')\n',
        );
      });
    });
}
