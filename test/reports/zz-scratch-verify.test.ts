import { vi } from 'vitest';
vi.mock('node:module', async (orig) => {
  const m = (await orig()) as typeof import('node:module');
  const createRequire = (u: string | URL) => {
    const r = m.createRequire(u); const orig0 = r.resolve.bind(r);
    const resolve = ((id: string) => id === 'chart.js/dist/chart.umd.js' ? orig0('chart.js').replace(/chart\.cjs$/, 'chart.umd.js') : orig0(id)) as NodeJS.RequireResolve;
    return Object.assign(r, { resolve });
  };
  return { ...m, createRequire, default: { ...m, createRequire } };
});
await import('./html-in-chromium.test.js');
