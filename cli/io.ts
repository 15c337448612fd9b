/** The streams and environment a command runs with; tests pass their own. */
export interface CliIO {
  stdout: { write(chunk: string): unknown; isTTY?: boolean };
  stderr: { write(chunk: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Resolves when the user asks a long-running command (serve, demo) to stop. */
  stopSignal?: Promise<string>;
}

export function processIO(): CliIO {
  quietWhenReaderLeaves(process.stdout);
  quietWhenReaderLeaves(process.stderr);
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/**
 * `strangler flip … | head -1`: once `head` has its line it closes the pipe,
 * and the next write fails with EPIPE. Node raises that as an unhandled
 * 'error' on the stream — a stack trace and exit 1 after the flip had
 * committed, so a script read "failed" (issue 26). A reader that left wants
 * no more output, as with any Unix tool: the rest is dropped silently and the
 * command finishes with the exit code its work earned. Other stream errors
 * still surface.
 */
function quietWhenReaderLeaves(stream: NodeJS.WriteStream): void {
  if (stream.listenerCount('error') > 0 && (stream as { [QUIET]?: true })[QUIET]) return;
  (stream as { [QUIET]?: true })[QUIET] = true;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') return;
    throw err;
  });
}

const QUIET = Symbol('strangler.quietWhenReaderLeaves');

/**
 * Thrown by a command to end with an exit code without calling process.exit
 * deep inside (the run() loop turns it into the return value).
 */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
