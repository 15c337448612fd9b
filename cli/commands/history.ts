import { type Command, InvalidArgumentError } from 'commander';
import type { CliIO } from '../io.js';

export function register(program: Command, io: CliIO): void {
  program
    .command('history')
    .description('print the audit log: flips, seeds, breaker and guard events')
    .argument('[route]', 'only this route')
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option('-n, --limit <n>', 'newest N entries', (v) => {
      if (!/^\d+$/.test(v)) throw new InvalidArgumentError('expected a whole number');
      return Number(v);
    })
    .option('--json', 'print JSON')
    .action(async (route: string | undefined, opts: { config: string; limit?: number; json?: boolean }) => {
      const { withStore } = await import('../context.js');
      const { renderHistory } = await import('../../reports/routes/index.js');
      const { unknownRouteError } = await import('../../core/errors.js');
      const { routeIds } = await import('../../control/latency.js');
      const entries = await withStore(io, opts.config, async ({ config, store }) => {
        // An empty table for a typo would look like "nothing happened to it" (issue 17).
        if (route !== undefined) {
          const known = await routeIds(store, config);
          if (!known.includes(route)) throw unknownRouteError(route, known);
        }
        return store.audit.list({ route, limit: opts.limit });
      });
      io.stdout.write(renderHistory(entries, opts.json ? 'json' : 'text').output);
    });
}
