/**
 * V8 heap tuning for a process whose main job is the proxy. Applied by the
 * process entry points (cli/planes.ts startDataPlane, the benches), not by
 * startProxy: a V8 flag is process-wide, and startProxy may run inside
 * someone else's process.
 *
 * Allocation-site pretenuring off. Under load a proxy allocates many
 * short-lived per-request objects while up to a few hundred requests are in
 * flight; V8 sees those allocation sites survive a scavenge and starts
 * allocating them straight in the old generation, which then only a full
 * mark-compact frees. Measured in bench/proxy.ts's setup (c=50, 200-byte
 * JSON, the two variants in alternating runs): with pretenuring on the
 * proxy's heap grew to 75–108 MB, RSS to 143–176 MB and CPU per request was
 * 64–76 µs; with it off the heap stayed at 60–65 MB, RSS at 121–130 MB and
 * CPU per request was 55–60 µs.
 *
 * The flag is read by the garbage collector as it runs, so setting it after
 * start works. A flag the operator gave node itself wins
 * (`node --allocation-site-pretenuring bin/strangler.js serve`; Node refuses
 * V8 flags like this one in NODE_OPTIONS).
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Flags a proxy process needs from its start (V8 fixes them then, so they
 * cannot be set here at run time). bin/strangler.js's shebang passes them
 * (test/cli/bin-node-flags.process.test.ts checks it stays so); the benches pass them
 * to their proxy children.
 *
 * - `--max-semi-space-size=16`: the young generation capped at Node 20's
 *   16 MB. Node 22/24's V8 lets it grow further; under bench/proxy.ts's load
 *   on Node 24.21 the heap reached 158 MB instead of 89 MB with the cap (RSS
 *   235 vs 171 MB), at no measurable CPU cost.
 * - `--no-maglev`: V8's mid-tier compiler (on by default from Node 22; Node
 *   20's V8 has it off) compiles on background threads whose zone memory
 *   glibc keeps mapped. With the cap alone Node 24.21's proxy still peaked at
 *   173–194 MB RSS under bench/proxy.ts's load (V8 heap ~72 MB: the rest was
 *   anonymous memory outside the heap); with Maglev off 146–155 MB, and CPU
 *   per request 1.22× the bare forwarder's instead of 1.31× (one run each).
 *   A proxy's hot path is small and hot: TurboFan gets there anyway.
 */
export const PROXY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16', '--no-maglev'];

const FLAG = 'allocation-site-pretenuring';

export function tuneHeapForProxy(): void {
  if (process.execArgv.some((a) => a.includes(FLAG))) return;
  setFlagsFromString(`--no-${FLAG}`);
}
