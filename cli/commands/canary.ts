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

// A copy of core/duration.ts's pattern (these options never accepted days),
// kept here because command modules import only commander at the top level
// (test/cli/startup.process.test.ts keeps `strangler --help` fast) and commander
// checks option values synchronously; the action parses with parseDuration.
function duration(v: string): string {
  if (!/^\d+(ms|s|m|h)$/.test(v))
    throw new InvalidArgumentError('expected a duration such as 500ms, 30s, 2m');
  return v;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('canary')
    .summary('progressive canary rollout with SLO checks; --follow, --pause, --resume, --abort')
    .description(
      "progressive rollout: raise a route's canary weight step by step, checking its SLO between steps.\n" +
        'The rollout is kept in the store and driven by the `strangler serve` holding the guard lease, not by\n' +
        'this command: --steps starts it and returns (add --follow to watch it); closing the terminal stops nothing.\n' +
        'Steer it from any shell with --pause, --resume, --abort (rolls back to shadow); with no option, show it.\n' +
        '--follow exits 0 when the rollout is done, 1 when it ends otherwise (rolled back, halted, aborted).',
    )
    .argument('<route>', 'route id')
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option(
      '--steps <list>',
      'start a rollout through these weights, e.g. 1,5,25,50,100 (100 = service mode)',
    )
    .option('--interval <duration>', 'how long each step holds before its SLO check', duration, '2m')
    .option('--pause', 'pause the running rollout (the route keeps its weight)')
    .option('--resume', 'resume a paused rollout (the step holds a full interval again)')
    .option('--abort', 'stop the rollout and flip the route back to shadow')
    .option('--follow', 'show the rollout as it progresses until it ends (with --steps: from its start)')
    .option('-r, --reason <text>', 'why (recorded in the audit log)')
    .option('--poll <duration>', 'how often --follow reads the rollout', duration, '1s')
    .option('--json', 'print the rollout state as JSON')
    .action(async (route: string, opts: CanaryOpts) => {
      const chosen = [opts.steps !== undefined, opts.pause, opts.resume, opts.abort].filter(Boolean).length;
      const { StranglerError } = await import('../../core/errors.js');
      if (chosen > 1 || (opts.follow && (opts.pause || opts.resume || opts.abort)))
        throw new StranglerError(
          'STRANGLER_E_USAGE',
          'canary: give one of --steps, --pause, --resume, --abort (--follow goes alone or with --steps)',
        );
      const { withStore, cliActor } = await import('../context.js');
      const { parseDuration } = await import('../../core/duration.js');
      const canary = await import('../../control/canary.js');
      const actor = cliActor(io);
      const stamp = () => new Date().toISOString().slice(11, 19);
      const show = (r: import('../../control/canary.js').Rollout) => {
        if (opts.json) return io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        if (r.status === 'none') return io.stdout.write(`${route}: no rollout\n`);
        io.stdout.write(
          `${route}: rollout ${r.status}, step ${Math.max(0, r.index + 1)}/${r.steps.length} of ${r.steps.join(',')}% every ${r.intervalMs / 1000}s` +
            (r.last
              ? `; last: ${r.last.action} by ${r.last.actor} at ${r.last.at}${r.last.reason ? ` (${r.last.reason})` : ''}`
              : '') +
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
          const r = await canary.startRollout(store, config, {
            route,
            steps,
            intervalMs: parseDuration(opts.interval),
            actor,
            reason: opts.reason,
          });
          io.stdout.write(`${route}: rollout started: ${r.steps.join(' → ')}% every ${opts.interval}\n`);
        }
        const { GUARD_LEASE } = await import('../../control/leader.js');
        const leader = await store.lease.holder(GUARD_LEASE);
        io.stdout.write(
          leader
            ? `${route}: driven by the proxy holding the guard lease (${leader.holder}); this command can stop at any time\n`
            : `${route}: no \`strangler serve\` holds the guard lease right now: the rollout advances once one runs\n`,
        );
        if (!opts.follow) return undefined;
        const stop = new AbortController();
        void io.stopSignal?.then(() => stop.abort());
        return canary.followRollout(store, route, {
          pollMs: parseDuration(opts.poll),
          signal: stop.signal,
          onChange: (r, prev) => {
            const t = stamp();
            if (opts.json) return void io.stdout.write(`${JSON.stringify(r)}\n`);
            if (prev && r.index !== prev.index && r.index >= 0) {
              const w = r.steps[r.index];
              io.stdout.write(
                `${t} ${route}: step ${r.index + 1}/${r.steps.length} → ${w === 100 ? 'service' : `canary ${w}%`} (v${r.version})\n`,
              );
            }
            if (prev && r.status !== prev.status && canary.isActive(r))
              io.stdout.write(`${t} ${route}: ${r.status} by ${r.last?.actor}\n`);
            if (r.message && r.message !== prev?.message) io.stdout.write(`${t} ${route}: ${r.message}\n`);
          },
        });
      });
      if (outcome && typeof outcome === 'object' && 'status' in outcome) {
        // Followed to the end (or Ctrl-C): 0 only for a rollout that is done.
        if (outcome.status !== 'done') {
          const { ExitCode } = await import('../io.js');
          throw new ExitCode(1);
        }
      }
    });
}
