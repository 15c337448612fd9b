import type { Command } from 'commander';
import type { CliIO } from '../io.js';

export function register(program: Command, io: CliIO): void {
  program
    .command('routes')
    .description('list routes with mode, weight, version and the last change (who, when, why)')
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option('--json', 'print JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      const { withStore } = await import('../context.js');
      const { listRouteRows } = await import('../../control/routes.js');
      const { readStallFindings } = await import('../../control/findings.js');
      const { renderRoutes } = await import('../../reports/routes/index.js');
      const { stallNotes } = await import('../../reports/findings.js');
      const { configDrift } = await import('../../store/live-config.js');
      const { describeDrift } = await import('../../core/route-definitions.js');
      const { rows, findings, drift } = await withStore(io, opts.config, async ({ config, file, store }) => {
        const diff = configDrift(file, await store.routes.definitions());
        return {
          rows: await listRouteRows(config, store),
          findings: await readStallFindings(store, config),
          drift: diff && describeDrift(diff),
        };
      });
      io.stdout.write(renderRoutes(rows, opts.json ? 'json' : 'text', findings).output);
      // JSON on stdout stays the array of rows; the notes go to stderr.
      if (opts.json) for (const l of stallNotes(findings)) io.stderr.write(`${l}\n`);
      if (drift) (opts.json ? io.stderr : io.stdout).write(`note: ${drift}\n`);
    });
}
