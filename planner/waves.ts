/**
 * `planWaves`: the leaf-first order. On the condensed graph (each import cycle
 * one node), wave 1 holds the modules that import no other internal module,
 * wave k those importing only earlier waves. Tarjan emits components sinks
 * first, so one pass in emission order assigns every wave.
 */
import { stronglyConnected } from './cycles.js';

export interface WaveAssignment {
  /** 1-based wave per module id (0 for modules left out by `skip`). */
  wave: Int32Array;
  comp: Int32Array;
  components: number[][];
}

/**
 * `keep(a, b)` decides which edges are dependencies for ordering; `skip(id)`
 * leaves a module out of the waves entirely (shared foundations).
 */
export function planWaves(
  out: number[][],
  keep: (a: number, b: number) => boolean,
  skip: (id: number) => boolean = () => false,
): WaveAssignment {
  const useEdge = (a: number, b: number): boolean => !skip(a) && !skip(b) && keep(a, b);
  const { comp, components } = stronglyConnected(out, useEdge);
  const wave = new Int32Array(out.length);
  const compWave = new Int32Array(components.length);
  components.forEach((members, c) => {
    if (members.every(skip)) return;
    let w = 0;
    for (const v of members)
      for (const t of out[v])
        if (comp[t] !== c && useEdge(v, t) && compWave[comp[t]] > w) w = compWave[comp[t]];
    compWave[c] = w + 1;
    for (const v of members) wave[v] = w + 1;
  });
  return { wave, comp, components };
}
