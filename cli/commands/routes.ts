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
      const { renderRoutes } = await import('../../reports/routes/index.js');
      const rows = await withStore(io, opts.config, ({ config, store }) => listRouteRows(config, store));
      io.stdout.write(renderRoutes(rows, opts.json ? 'json' : 'text').output);
    });
}
