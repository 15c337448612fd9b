/** Pieces the plan reporters share: wave colours and edge classification. */
import type { Plan } from './types.js';

/** One colour per wave (cycled); shared foundations are grey. */
export const WAVE_COLOURS = [
  '#a6e3a1',
  '#89dceb',
  '#f9e2af',
  '#fab387',
  '#cba6f7',
  '#f5c2e7',
  '#94e2d5',
  '#eba0ac',
];
export const SHARED_COLOUR = '#d0d4da';

export function waveColour(wave: number, shared: boolean): string {
  return shared ? SHARED_COLOUR : WAVE_COLOURS[(wave - 1) % WAVE_COLOURS.length];
}

export interface DrawnEdge {
  from: string;
  to: string;
  cut: boolean;
  typeOnly: boolean;
}

/** One edge per module pair, marked when it is a suggested cut or only type-checking imports. */
export function drawnEdges(plan: Plan): DrawnEdge[] {
  const cuts = new Set(plan.cuts.map((c) => `${c.from}\u0000${c.to}`));
  const edges = new Map<string, DrawnEdge>();
  for (const imp of plan.imports) {
    const key = `${imp.from}\u0000${imp.to}`;
    const e = edges.get(key);
    if (e) e.typeOnly &&= imp.kind === 'type_checking';
    else
      edges.set(key, {
        from: imp.from,
        to: imp.to,
        cut: cuts.has(key),
        typeOnly: imp.kind === 'type_checking',
      });
  }
  return [...edges.values()];
}

export function where(imp: { file: string | null; line: number | null }): string {
  return imp.file ? `${imp.file}:${imp.line ?? '?'}` : '(graph input)';
}
