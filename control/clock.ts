/**
 * Time as the guard and the canary stepper see it. Both are about time (SLO
 * windows, step intervals), so their tests drive a fake clock instead of
 * sleeping; production uses the system clock.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Timers of a watcher never keep the process alive on their own.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Resolves after `ms` on `clock`. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimeout(resolve, ms);
  });
}

/**
 * Run `tick` after `firstMs`, then `everyMs` after each run ends: serial, so
 * a slow store never stacks ticks (the guard and the rollout driver). Returns
 * stop.
 */
export function pollSerially(
  clock: Clock,
  at: { firstMs: number; everyMs: number },
  tick: () => Promise<unknown>,
): () => void {
  let stopped = false;
  let timer: unknown;
  const loop = async () => {
    if (stopped) return;
    await tick();
    if (!stopped) timer = clock.setTimeout(loop, at.everyMs);
  };
  timer = clock.setTimeout(loop, at.firstMs);
  return () => {
    stopped = true;
    clock.clearTimeout(timer);
  };
}
