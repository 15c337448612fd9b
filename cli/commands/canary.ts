import { type Command, InvalidArgumentError } from 'commander';
import type { CliIO } from '../io.js';

interface CanaryOpts {
  config: string;
  steps?: string;
  interval: string;
  pause?: boolean;
  resume?: boolean;
  abort?: boolean;
  follow?: boolean;
  reason?: string;
  poll: string;
  json?: boolean;
}

function duration(v: string): string {
  if (!/^\d+(ms|s|m|h)$/.test(v)) throw new InvalidArgumentError('expected a duration such as 500ms, 30s, 2m');
  return v;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('canary')
    .summary('progressive canary rollout with SLO checks; --pause, --resume, --abort')
    .description(
      "progressive rollout: raise a route's canary weight step by step, checking its SLO between steps;\n" +
        'steer a running rollout from any shell with --pause, --resume, --abort (rolls back to shadow);\n' +
        'with no option, show the rollout state. Exit 0 when the rollout is done, 1 when it ends otherwise.',
    )
    .argument('<route>', 'route id')
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option('--steps <list>', 'weights to walk through, e.g. 1,5,25,50,100 (100 = service mode)')
    .option('--interval <duration>', 'how long each step holds before its SLO check', duration, '2m')
    .option('--pause', 'pause the running rollout (the route keeps its weight)')
    .option('--resume', 'resume a paused rollout (the step holds a full interval again)')
    .option('--abort', 'stop the rollout and flip the route back to shadow')
    .option('--follow', 'drive a rollout whose stepper stopped, from this process')
    .option('-r, --reason <text>', 'why (recorded in the audit log)')
    .option('--poll <duration>', 'how often the stepper looks for --pause/--abort', duration, '1s')
    .option('--json', 'print the rollout state as JSON')
    .action(async (route: string, opts: CanaryOpts) => {
      const chosen = [opts.steps !== undefined, opts.pause, opts.resume, opts.abort, opts.follow].filter(Boolean).length;
      const { StranglerError } = await import('../../core/errors.js');
      if (chosen > 1)
        throw new StranglerError('STRANGLER_E_USAGE', 'canary: give one of --steps, --pause, --resume, --abort, --follow');
      const { withStore, cliActor } = await import('../context.js');
      const { parseDuration } = await import('../../core/config.js');
      const canary = await import('../../control/canary.js');
      const actor = cliActor(io);
      const show = (r: import('../../control/canary.js').Rollout) => {
        if (opts.json) return io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        if (r.status === 'none') return io.stdout.write(`${route}: no rollout\n`);
        io.stdout.write(
          `${route}: rollout ${r.status}, step ${Math.max(0, r.index + 1)}/${r.steps.length} of ${r.steps.join(',')}% every ${r.intervalMs / 1000}s` +
            (r.last ? `; last: ${r.last.action} by ${r.last.actor} at ${r.last.at}${r.last.reason ? ` (${r.last.reason})` : ''}` : '') +
            '\n',
        );
      };
      const outcome = await withStore(io, opts.config, async ({ config, store }) => {
        const who = { route, actor, reason: opts.reason };
        if (opts.pause) return show(await canary.pauseRollout(store, who));
        if (opts.resume) return show(await canary.resumeRollout(store, who));
        if (opts.abort) return show(await canary.abortRollout(store, config, who));
        if (opts.steps === undefined && !opts.follow) return show(await canary.readRollout(store, route));
        if (opts.steps !== undefined) {
          const steps = canary.parseSteps(opts.steps);
          const r = await canary.startRollout(store, config, { route, steps, intervalMs: parseDuration(opts.interval), actor, reason: opts.reason });
          io.stdout.write(`${route}: rollout started: ${r.steps.join(' → ')}% every ${opts.interval}\n`);
        }
        const stop = new AbortController();
        void io.stopSignal?.then(() => stop.abort());
        return canary.runRollout({
          store,
          config,
          route,
          actor,
          pollMs: parseDuration(opts.poll),
          signal: stop.signal,
          onEvent: (e) => {
            const t = new Date().toISOString().slice(11, 19);
            if (e.type === 'step') io.stdout.write(`${t} ${route}: step ${e.index + 1} → ${e.mode === 'service' ? 'service' : `canary ${e.weight}%`} (v${e.version})\n`);
            else if (e.type === 'slo') io.stdout.write(`${t} ${route}: ${e.status.message}\n`);
            else if (e.type === 'paused' || e.type === 'resumed') io.stdout.write(`${t} ${route}: ${e.type}\n`);
            else if (e.type === 'end') io.stdout.write(`${t} ${route}: ${e.message}\n`);
          },
        });
      });
      if (outcome && typeof outcome === 'object' && 'status' in outcome && outcome.status !== 'done') {
        const { ExitCode } = await import('../io.js');
        throw new ExitCode(1);
      }
    });
}
