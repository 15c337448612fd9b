import type { Command } from 'commander';
import type { CliIO } from '../io.js';

export function register(program: Command, io: CliIO): void {
  program
    .command('apply')
    .description(
      "turn the config file's route definitions and upstreams into audited changes in the store:\n" +
        'prints the plan route by route (added, removed, changed fields old -> new; which changes move\n' +
        'live traffic or loosen a check), then writes one versioned, audited change per route. A change\n' +
        'that moves live traffic (a route not in legacy) is refused unless --force --reason. Modes and\n' +
        'weights are left to `strangler flip`. Running proxies pick the change up as they do a flip.',
    )
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option('--dry-run', 'print the plan, change nothing (exits 4 if applying it would be refused)')
    .option(
      '--force',
      'apply changes that move live traffic (needs --reason; recorded with what it overrode)',
    )
    .option('-r, --reason <text>', 'why (recorded in the audit log)')
    .option('-a, --actor <name>', 'who is applying (recorded in the audit log)')
    .option('--json', 'print the plan as JSON')
    .action(
      async (opts: {
        config: string;
        dryRun?: boolean;
        force?: boolean;
        reason?: string;
        actor?: string;
        json?: boolean;
      }) => {
        const { withStore, cliActor } = await import('../context.js');
        const { planApply, applyPlan, isEmptyPlan, requireForceReason, trafficMoves } = await import(
          '../../control/apply-plan.js'
        );
        requireForceReason(opts);
        const { renderApplyPlan } = await import('../../reports/apply/index.js');
        await withStore(io, opts.config, async ({ file, store }) => {
          const plan = planApply(await store.routes.definitions(), await store.routes.list(), file);
          io.stdout.write(renderApplyPlan(plan, opts.json ? 'json' : 'text').output);
          // With --json, stdout stays the plan alone; what happened goes to stderr.
          const say = opts.json ? io.stderr : io.stdout;
          if (isEmptyPlan(plan)) return;
          const moves = trafficMoves(plan);
          if (opts.dryRun) {
            if (moves.length && !opts.force) {
              say.write(
                `dry run: applying would be refused (STRANGLER_E_APPLY_REFUSED): it moves live traffic (${moves.join('; ')}); nothing changed\n`,
              );
              const { ExitCode } = await import('../io.js');
              throw new ExitCode(4);
            }
            say.write('dry run: nothing changed; `strangler apply` writes this plan\n');
            return;
          }
          const version = await applyPlan(store, plan, {
            actor: opts.actor ?? cliActor(io),
            reason: opts.reason,
            force: opts.force,
          });
          say.write(
            `applied: ${plan.routes.length} route change(s)${plan.upstreams.fields.length ? ' and the upstreams' : ''}, audited (table version ${version}); running proxies pick it up within proxy.pollIntervalMs${moves.length ? `\nforced by ${opts.actor ?? cliActor(io)}, overriding: moves live traffic (${moves.join('; ')}): ${opts.reason}` : ''}\n`,
          );
        });
      },
    );
}
