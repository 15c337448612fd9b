/**
 * The commander program. `run(argv, io)` returns an exit code and never calls
 * process.exit (dependency-cruiser's src/cli/index.mjs); bin/strangler.js is a
 * thin wrapper. Command modules register their options only and import their
 * implementation lazily inside the action, so `strangler --help` stays fast.
 */
import { Command, CommanderError } from 'commander';
import { isStranglerError } from '../core/errors.js';
import { type CliIO, ExitCode, processIO } from './io.js';
import { COMMANDS } from './commands/index.js';

export function buildProgram(io: CliIO): Command {
  const program = new Command('strangler')
    .description(
      'Move a legacy monolith onto new services one route at a time:\n' +
        'a strangler proxy with shadow diffing, failover to legacy, gated flips and an extraction planner.',
    )
    .version(process.env.npm_package_version ?? '0.1.0')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run strangler --help for usage)');
  for (const register of COMMANDS) register(program, io);
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

export async function run(argv: string[], io: CliIO = processIO()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof ExitCode) return err.code;
    if (err instanceof CommanderError) {
      // help and version are "errors" to commander; they are success to us.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return 0;
      return err.exitCode === 0 ? 0 : 2;
    }
    if (isStranglerError(err)) {
      io.stderr.write(`strangler: ${err.code}: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`strangler: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

export async function main(argv: string[]): Promise<number> {
  return run(argv, processIO());
}
