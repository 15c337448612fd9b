import type { Command } from 'commander';
import type { CliIO } from '../io.js';

export function register(program: Command, io: CliIO): void {
  program
    .command('seed')
    .description(
      'create the store if needed and seed the routes it has never held from the config (what `serve` does at start);\n' +
        'existing route state always wins over the config, and every seeded route is audited;\n' +
        'clears the lost mark a proxy left on a store that lost its state (stop every proxy first; audited)',
    )
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option('-a, --actor <name>', 'who is seeding (recorded in the audit log)')
    .action(async (opts: { config: string; actor?: string }) => {
      const { loadConfig } = await import('../../core/config.js');
      const { openStore } = await import('../../store/open.js');
      const { configPath, initStore, storeOptions, cliActor } = await import('../context.js');
      const config = loadConfig(configPath(io, opts.config));
      const store = await openStore(config.store, storeOptions(config, true, true));
      try {
        const { created, seeded } = await initStore(
          store,
          config,
          (l) => io.stdout.write(`${l}\n`),
          opts.actor ?? cliActor(io),
          {
            clearLostMark: true,
          },
        );
        if (!created && !seeded.length)
          io.stdout.write(`nothing to seed: ${store.label} holds every configured route\n`);
      } finally {
        await store.close();
      }
    });
}
