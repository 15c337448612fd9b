/**
 * Line charts as inline SVG: no charting library, no canvas, nothing inline
 * for the CSP to refuse (colours come from classes in console.css). Each
 * chart carries a text summary for screen readers.
 */
import { h, s } from './dom.js';

const H = 200;
const M = { l: 56, r: 12, t: 10, b: 26 };

/**
 * The drawing's width in SVG units: about the width it is shown at (clamped
 * to 300..640), so 11 px axis labels stay 11 px. A fixed 640-unit viewBox
 * scaled to a 390 px phone drew them at about 5 px (issue 26).
 */
function chartWidth() {
  const shown = document.getElementById('main')?.clientWidth ?? 640;
  return Math.round(Math.max(300, Math.min(640, shown - 48)));
}

/**
 * @param {{ title: string, series: Array<{ label: string, cls: string, points: Array<{x:number,y:number|null}> }>,
 *   yFormat: (v:number)=>string, xFormat: (v:number)=>string, yMin?: number, yMax?: number,
 *   limit?: { y: number, label: string }, empty: string }} o
 */
export function lineChart(o) {
  const all = o.series.flatMap((x) => x.points.filter((p) => p.y !== null && Number.isFinite(p.y)));
  if (all.length === 0) return h('p', { class: 'muted' }, o.empty);
  const W = chartWidth();
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  if (o.limit) ys.push(o.limit.y);
  let x0 = Math.min(...xs);
  let x1 = Math.max(...xs);
  if (x0 === x1) {
    x0 -= 1000;
    x1 += 1000;
  }
  const y0 = o.yMin ?? Math.min(0, ...ys);
  let y1 = o.yMax ?? Math.max(...ys);
  if (y1 === y0) y1 = y0 + 1;
  const px = (x) => M.l + ((x - x0) / (x1 - x0)) * (W - M.l - M.r);
  const py = (y) => H - M.b - ((y - y0) / (y1 - y0)) * (H - M.t - M.b);

  const ticks = [y0, y0 + (y1 - y0) / 2, y1];
  const grid = ticks.map((t) =>
    s(
      'g',
      {},
      s('line', { class: 'axis', x1: M.l, x2: W - M.r, y1: py(t), y2: py(t) }),
      s('text', { class: 'axis-label', x: M.l - 6, y: py(t) + 4, 'text-anchor': 'end' }, o.yFormat(t)),
    ),
  );
  const xLabels = [x0, x1].map((t, i) =>
    s(
      'text',
      { class: 'axis-label', x: px(t), y: H - 6, 'text-anchor': i === 0 ? 'start' : 'end' },
      o.xFormat(t),
    ),
  );
  const lines = o.series.map((ser) => {
    let d = '';
    let pen = false;
    for (const p of ser.points) {
      if (p.y === null || !Number.isFinite(p.y)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`;
      pen = true;
    }
    // Few points: mark each one, so a series of one or two is visible at all.
    const shownPoints = ser.points.filter((p) => p.y !== null && Number.isFinite(p.y));
    const dots =
      shownPoints.length <= 12
        ? shownPoints.map((p) =>
            s('circle', { class: `dot ${ser.cls}`, cx: px(p.x).toFixed(1), cy: py(p.y).toFixed(1), r: 3 }),
          )
        : [];
    return s('g', {}, s('path', { class: `line ${ser.cls}`, d }), dots);
  });
  const limit = o.limit
    ? s('line', { class: 'line s-limit', x1: M.l, x2: W - M.r, y1: py(o.limit.y), y2: py(o.limit.y) })
    : null;
  const latest = o.series
    .map((ser) => {
      const last = [...ser.points].reverse().find((p) => p.y !== null);
      return last ? `${ser.label} ${o.yFormat(last.y)}` : null;
    })
    .filter(Boolean)
    .join(', ');
  return h(
    'figure',
    { class: 'chart' },
    s(
      'svg',
      { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${o.title}: latest ${latest}` },
      grid,
      xLabels,
      limit,
      lines,
    ),
    h(
      'div',
      { class: 'legend' },
      o.series.map((ser) => h('span', {}, h('span', { class: `sw ${ser.cls}` }), ser.label)),
      o.limit ? h('span', {}, h('span', { class: 'sw s-limit' }), o.limit.label) : null,
    ),
  );
}
