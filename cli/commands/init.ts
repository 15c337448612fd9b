import type { Command } from 'commander';
import type { CliIO } from '../io.js';

export function register(program: Command, io: CliIO): void {
  program
    .command('init')
    .description('write a commented strangler.yaml for a legacy monolith (never overwrites an existing file)')
    .requiredOption('--legacy <url>', 'base URL of the legacy monolith, e.g. http://127.0.0.1:8000')
    .option('-c, --config <file>', 'file to write', 'strangler.yaml')
    .option('--listen <host:port>', 'where the proxy will listen', '127.0.0.1:8080')
    .option('--admin-listen <host:port>', 'where the admin API will listen', '127.0.0.1:9901')
    .action(async (opts: { legacy: string; config: string; listen: string; adminListen: string }) => {
      const { configPath } = await import('../context.js');
      const { writeInitConfig } = await import('../init-config.js');
      const file = configPath(io, opts.config);
      writeInitConfig(file, { legacy: opts.legacy, listen: opts.listen, adminListen: opts.adminListen });
      io.stdout.write(
        `wrote ${opts.config}: every request goes to ${opts.legacy} until you add a service and a route.\n` +
          `next: strangler serve${opts.config === 'strangler.yaml' ? '' : ` --config ${opts.config}`}  (and strangler plan PATH/TO/MONOLITH for a first route)\n`,
      );
    });
}
