/**
 * Cycle analysis on the module graph: strongly connected components (Tarjan,
 * iterative so 100k-module graphs do not overflow the stack), one shortest
 * witness cycle per component (BFS, never an enumeration of all cycles), and
 * cut suggestions from a weighted Eades–Lin–Smyth feedback-arc-set heuristic
 * ("A fast and effective heuristic for the feedback arc set problem", IPL 1993).
 */

/** `keep(a, b)` filters edges (e.g. ignore type-only imports); components come sinks first. */
export function stronglyConnected(
  out: number[][],
  keep: (a: number, b: number) => boolean = () => true,
): { comp: Int32Array; components: number[][] } {
  const n = out.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const comp = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  const components: number[][] = [];
  // Explicit DFS frames: node and the position in its adjacency list.
  const frameNode = new Int32Array(n);
  const frameEdge = new Int32Array(n);
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    let sp = 0;
    frameNode[0] = root;
    frameEdge[0] = 0;
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = 1;
    while (sp >= 0) {
      const v = frameNode[sp];
      const adj = out[v];
      if (frameEdge[sp] < adj.length) {
        const w = adj[frameEdge[sp]++];
        if (!keep(v, w)) continue;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          sp++;
          frameNode[sp] = w;
          frameEdge[sp] = 0;
        } else if (onStack[w] && index[w] < low[v]) low[v] = index[w];
        continue;
      }
      if (low[v] === index[v]) {
        const members: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          comp[w] = components.length;
          members.push(w);
        } while (w !== v);
        components.push(members);
      }
      sp--;
      if (sp >= 0) {
        const parent = frameNode[sp];
        if (low[v] < low[parent]) low[parent] = low[v];
      }
    }
  }
  return { comp, components };
}

/** Shortest cycle through `start` inside its component (ids, start first), or null. */
export function shortestCycleThrough(out: number[][], comp: Int32Array, start: number): number[] | null {
  const c = comp[start];
  const parent = new Map<number, number>([[start, -1]]);
  let frontier = [start];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const u of frontier) {
      for (const w of out[u]) {
        if (comp[w] !== c) continue;
        if (w === start) {
          const path: number[] = [];
          for (let x = u; x !== -1; x = parent.get(x)!) path.push(x);
          return path.reverse();
        }
        if (!parent.has(w)) {
          parent.set(w, u);
          next.push(w);
        }
      }
    }
    frontier = next;
  }
  return null;
}

/**
 * One shortest witness cycle for a component. Small components are searched
 * from every member for the globally shortest one; big ones from their
 * first member by name only, to keep the cost linear.
 */
export function witnessCycle(
  out: number[][],
  comp: Int32Array,
  members: number[],
  names: string[],
): number[] {
  const ordered = [...members].sort((a, b) => (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : 0));
  const starts = ordered.length <= 64 ? ordered : ordered.slice(0, 1);
  let best: number[] | null = null;
  for (const s of starts) {
    const cyc = shortestCycleThrough(out, comp, s);
    if (cyc && (!best || cyc.length < best.length)) best = cyc;
    if (best && best.length === 2) break;
  }
  return best ?? [];
}

class MaxHeap {
  private keys: number[] = [];
  private vals: number[] = [];
  get size(): number {
    return this.keys.length;
  }
  push(key: number, val: number): void {
    const k = this.keys;
    const v = this.vals;
    let i = k.length;
    k.push(key);
    v.push(val);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p] >= key) break;
      k[i] = k[p];
      v[i] = v[p];
      i = p;
    }
    k[i] = key;
    v[i] = val;
  }
  pop(): [number, number] {
    const k = this.keys;
    const v = this.vals;
    const top: [number, number] = [k[0], v[0]];
    const lastK = k.pop()!;
    const lastV = v.pop()!;
    if (k.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= k.length) break;
        const r = l + 1;
        const c = r < k.length && k[r] > k[l] ? r : l;
        if (k[c] <= lastK) break;
        k[i] = k[c];
        v[i] = v[c];
        i = c;
      }
      k[i] = lastK;
      v[i] = lastV;
    }
    return top;
  }
}

/**
 * Weighted Eades–Lin–Smyth: peel sinks to the back and sources to the front;
 * when neither exists, move the vertex with the largest (out-weight −
 * in-weight) to the front. Edges pointing backwards in the resulting order
 * form the feedback arc set. A second pass puts back every cut edge (dearest
 * first) that no longer closes a cycle, so the suggestion is minimal.
 * Works on one component's members; returns [from, to] id pairs.
 */
export function feedbackArcs(
  out: number[][],
  comp: Int32Array,
  members: number[],
  cost: (a: number, b: number) => number,
): Array<[number, number]> {
  const c = comp[members[0]];
  const m = members.length;
  const local = new Map<number, number>();
  members.forEach((id, i) => {
    local.set(id, i);
  });
  const succ: number[][] = Array.from({ length: m }, () => []);
  const pred: number[][] = Array.from({ length: m }, () => []);
  const w = new Map<number, number>();
  const outW = new Float64Array(m);
  const inW = new Float64Array(m);
  const outDeg = new Int32Array(m);
  const inDeg = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    for (const t of out[members[i]]) {
      if (comp[t] !== c) continue;
      const j = local.get(t)!;
      const cw = cost(members[i], t);
      succ[i].push(j);
      pred[j].push(i);
      w.set(i * m + j, cw);
      outW[i] += cw;
      inW[j] += cw;
      outDeg[i]++;
      inDeg[j]++;
    }
  }
  const removed = new Uint8Array(m);
  const s1: number[] = [];
  const s2: number[] = [];
  const sinks: number[] = [];
  const sources: number[] = [];
  const heap = new MaxHeap();
  for (let i = 0; i < m; i++) {
    if (outDeg[i] === 0) sinks.push(i);
    else if (inDeg[i] === 0) sources.push(i);
    heap.push(outW[i] - inW[i], i);
  }
  const remove = (u: number): void => {
    removed[u] = 1;
    for (const p of pred[u]) {
      if (removed[p]) continue;
      const cw = w.get(p * m + u)!;
      outW[p] -= cw;
      if (--outDeg[p] === 0) sinks.push(p);
      heap.push(outW[p] - inW[p], p);
    }
    for (const s of succ[u]) {
      if (removed[s]) continue;
      const cw = w.get(u * m + s)!;
      inW[s] -= cw;
      if (--inDeg[s] === 0) sources.push(s);
      heap.push(outW[s] - inW[s], s);
    }
  };
  let left = m;
  while (left > 0) {
    if (sinks.length > 0) {
      const u = sinks.pop()!;
      if (removed[u]) continue;
      s2.push(u);
      remove(u);
      left--;
      continue;
    }
    if (sources.length > 0) {
      const u = sources.pop()!;
      if (removed[u]) continue;
      s1.push(u);
      remove(u);
      left--;
      continue;
    }
    // Lazy deletion: skip heap entries whose key is stale or whose vertex is gone.
    const [key, u] = heap.pop();
    if (removed[u] || key !== outW[u] - inW[u]) continue;
    s1.push(u);
    remove(u);
    left--;
  }
  const order = s1.concat(s2.reverse());
  const pos = new Int32Array(m);
  order.forEach((u, i) => {
    pos[u] = i;
  });
  const cuts: Array<[number, number]> = [];
  const kept: number[][] = Array.from({ length: m }, () => []);
  for (let i = 0; i < m; i++)
    for (const j of succ[i]) {
      if (pos[i] > pos[j]) cuts.push([i, j]);
      else kept[i].push(j);
    }
  // Minimality pass (bounded so huge tangles stay fast): re-add a cut edge
  // i -> j when j no longer reaches i.
  if (cuts.length * (m + w.size) <= 20_000_000) {
    cuts.sort((a, b) => w.get(b[0] * m + b[1])! - w.get(a[0] * m + a[1])!);
    const seen = new Int32Array(m).fill(-1);
    const finalCuts: Array<[number, number]> = [];
    cuts.forEach(([i, j], k) => {
      const stack = [j];
      seen[j] = k;
      let reaches = false;
      while (stack.length > 0 && !reaches) {
        const x = stack.pop()!;
        for (const y of kept[x]) {
          if (y === i) {
            reaches = true;
            break;
          }
          if (seen[y] !== k) {
            seen[y] = k;
            stack.push(y);
          }
        }
      }
      if (reaches) finalCuts.push([i, j]);
      else kept[i].push(j);
    });
    return finalCuts.map(([i, j]) => [members[i], members[j]]);
  }
  return cuts.map(([i, j]) => [members[i], members[j]]);
}
