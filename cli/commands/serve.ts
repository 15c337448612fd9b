import { type Command, InvalidArgumentError } from 'commander';
import type { CliIO } from '../io.js';

export function register(program: Command, io: CliIO): void {
  program
    .command('serve')
    .description('run the strangler proxy, its admin API and the SLO guard')
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option('--listen <host:port>', 'override the config listen address')
    .option('--admin-listen <host:port>', 'override the admin listen address')
    .option('--workers <n>', 'worker processes sharing the listener (node:cluster)', (v) => {
      if (!/^[1-9]\d*$/.test(v)) throw new InvalidArgumentError('expected a whole number >= 1');
      return Number(v);
    })
    .action(async (opts: { config: string; listen?: string; adminListen?: string; workers?: number }) => {
      const { runServe } = await import('../serve.js');
      const code = await runServe(io, opts);
      if (code !== 0) {
        const { ExitCode } = await import('../io.js');
        throw new ExitCode(code);
      }
    });
}
