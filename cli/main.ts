/**
 * The commander program. `run(argv, io)` returns an exit code and never calls
 * process.exit (dependency-cruiser's src/cli/index.mjs); bin/strangler.js is a
 * thin wrapper. Command modules register their options only and import their
 * implementation lazily inside the action, so `strangler --help` stays fast.
 */
import { Command, CommanderError } from 'commander';
import { isStranglerError, StranglerError } from '../core/errors.js';
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
    });
  // `--config F` / `-c F` before the command as well as after it (issue 26:
  // `strangler --config F flip …` was "unknown option"). Commander lets the
  // program's option take it wherever it stands, so the value the program
  // holds (the last one given) is handed to the command that runs, which
  // declares its own --config with its own default and help.
  program.option('-c, --config <file>', 'config file for the command (before or after the command name)');
  program.hook('preAction', (_program, action) => {
    const given = program.getOptionValue('config') as string | undefined;
    if (given === undefined || action === program) return;
    if (!action.options.some((o) => o.long === '--config'))
      throw new StranglerError(
        'STRANGLER_E_USAGE',
        `${commandPath(action)} reads no config file: --config is not for it`,
        {
          details: { field: 'config' },
        },
      );
    action.setOptionValueWithSource('config', given, 'cli');
  });
  for (const register of COMMANDS) register(program, io);
  for (const cmd of allCommands(program)) {
    cmd.exitOverride();
    // The parser's own complaints in the one form every other error has.
    cmd.configureOutput({ outputError: (message) => io.stderr.write(`${usageLine(message, cmd)}\n`) });
  }
  return program;
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * "error: option '-w, --weight <percent>' argument 'abc' is invalid. expected a whole number"
 * becomes "strangler: STRANGLER_E_USAGE: option '-w, --weight <percent>' argument 'abc' is invalid:
 * expected a whole number (see strangler flip --help)": one line, a stable code, the help that applies.
 */
export function usageLine(commanderMessage: string, cmd: Command): string {
  const text = commanderMessage
    .trim()
    .replace(/^error: /, '')
    .replace(/ is invalid\. /, ' is invalid: ')
    .replace(/\s*\n\s*/g, ' ');
  return `strangler: STRANGLER_E_USAGE: ${text} (see ${commandPath(cmd)} --help)`;
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
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
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
