import { type Command, InvalidArgumentError } from 'commander';
import type { CliIO } from '../io.js';

function wholeNumber(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a whole number');
  return Number(v);
}

export function register(program: Command, io: CliIO): void {
  program
    .command('flip')
    .description(
      "change a route's mode (legacy | shadow | canary | service) or canary weight; versioned and audited",
    )
    .argument('<route>', 'route id')
    .argument('<mode>', 'legacy | shadow | canary | service')
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option(
      '-w, --weight <percent>',
      'canary share of traffic, a whole number 1..99 (service mode is 100, legacy and shadow 0)',
      wholeNumber,
    )
    .option('-r, --reason <text>', 'why (recorded in the audit log)')
    .option('--expect-version <version>', 'refuse unless the route is still at this version', wholeNumber)
    .option('--force', 'override a refusing gate (needs --reason; recorded)')
    .option('--dry-run', 'show the verdict, change nothing')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        route: string,
        mode: string,
        opts: {
          config: string;
          weight?: number;
          reason?: string;
          expectVersion?: number;
          force?: boolean;
          dryRun?: boolean;
          json?: boolean;
        },
      ) => {
        const { withStore, cliActor } = await import('../context.js');
        const { flipRoute } = await import('../../control/flip.js');
        const { defaultFlipSteps } = await import('../../control/flip-steps.js');
        const result = await withStore(io, opts.config, ({ config, store }) =>
          flipRoute(
            store,
            config,
            {
              route,
              mode,
              weight: opts.weight,
              reason: opts.reason,
              actor: cliActor(io),
              expectVersion: opts.expectVersion,
              force: opts.force,
              dryRun: opts.dryRun,
            },
            defaultFlipSteps(),
          ),
        );
        if (opts.json) {
          io.stdout.write(JSON.stringify(result, null, 2) + '\n');
          return;
        }
        const show = (s: { mode: string; weight: number; version: number }) =>
          `${s.mode}${s.mode === 'canary' ? ` ${s.weight}%` : ''} (v${s.version})`;
        if (result.unchanged) {
          // Exit 0: a scripted rollback run twice is not an error (--expect-version still guards races).
          const { describeMode } = await import('../../control/state-machine.js');
          io.stdout.write(
            `${route}: already ${describeMode(result.before.mode, result.before.weight)} (v${result.before.version}); nothing changed\n`,
          );
          return;
        }
        // Set by refuseFlip (control/flip.ts) when a step (admitTransition, requireGate) would refuse a dry run.
        const refused = result.details.refused as { code: string; message: string } | undefined;
        if (result.dryRun && refused)
          io.stdout.write(
            `dry run: ${route} ${show(result.before)} -> ${mode}: would be refused (${refused.code}): ${refused.message}; nothing changed\n`,
          );
        else if (result.dryRun)
          io.stdout.write(`dry run: ${route} ${show(result.before)} would become ${mode}; nothing changed\n`);
        else io.stdout.write(`${route}: ${show(result.before)} -> ${show(result.after!)}\n`);
        const gate = result.details.gate as
          | {
              pass: boolean;
              basisNote?: string;
              checks: Array<{ ok: boolean; name: string; message: string }>;
            }
          | undefined;
        if (gate) {
          io.stdout.write(
            `gate: ${gate.pass ? 'pass' : 'refused'}${gate.basisNote ? ` (${gate.basisNote})` : ''}\n`,
          );
          for (const c of gate.checks)
            io.stdout.write(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.message}\n`);
        }
        const forced = result.details.forced as
          | { by: string; reason: string; overrode: string[] }
          | undefined;
        if (forced)
          io.stdout.write(
            `forced by ${forced.by}, overriding ${forced.overrode.join(', ')}: ${forced.reason}\n`,
          );
        if (refused) {
          // A dry run that would be refused exits as the real flip would (4 for a gate), so scripts can ask first.
          const { ERROR_CODES } = await import('../../core/errors.js');
          const { ExitCode } = await import('../io.js');
          throw new ExitCode(ERROR_CODES[refused.code as keyof typeof ERROR_CODES]?.exit ?? 1);
        }
      },
    );
}
