/**
 * Issue 29 case 2: `strangler flip notes canary --weight 25 -c lax.yaml`
 * with `minCompared: 1, minMatchRate: 0` passed as a plain flip while the
 * running proxy's console and admin API refused it. The gate is the store's:
 * every caller is judged by it, whatever file it read, and a looser gate gets
 * there only through `strangler apply`, marked as loosening a check.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandIn, startStandIn } from '../helpers/stand-ins.js';
import { tempDir, writeConfig } from '../helpers/tmp.js';
import { ADMIN_TOKEN, cli, SERVE_ENV, type Served, startServe, until } from './helpers.js';

const LAX_GATE = 'gate: { minCompared: 1, minMatchRate: 0, maxP99Ratio: 1000, maxErrorRate: 1 }';

let legacy: StandIn;
let service: StandIn;
let tmp: ReturnType<typeof tempDir>;
let config: string;
let lax: string;
let served: Served;

const yaml = (gate: string) => `listen: 127.0.0.1:0
admin: { listen: 127.0.0.1:0 }
store: sqlite:state.db
legacy: { url: ${legacy.url} }
services:
  notes-service: { url: ${service.url} }
proxy: { pollIntervalMs: 100, statsFlushMs: 200 }
drain: { delay: 100ms, timeout: 1s }
routes:
  - id: notes
    match: { path: /api/notes/* }
    service: notes-service
    mode: shadow
    ${gate}
`;

async function adminRoute(): Promise<{
  gate: { pass: boolean; checks: { name: string; ok: boolean; limit: number }[] };
}> {
  const res = await fetch(`${served.admin}/routes`);
  const { routes } = (await res.json()) as { routes: { id: string; status: { gate: never } }[] };
  return routes.find((r) => r.id === 'notes')!.status;
}

async function adminFlip(): Promise<{
  status: number;
  body: { error?: string; details?: { refused?: { code: string } } };
}> {
  const res = await fetch(`${served.admin}/routes/notes/flip`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ mode: 'canary', weight: 25, dryRun: true }),
  });
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  legacy = await startStandIn('legacy');
  service = await startStandIn('notes-service');
  tmp = tempDir('strangler-gate-');
  config = writeConfig(tmp.dir, yaml('gate: { minCompared: 500 }'));
  lax = path.join(tmp.dir, 'lax.yaml');
  writeFileSync(lax, yaml(LAX_GATE));
  served = await startServe(config, SERVE_ENV);
  // A few shadow comparisons: enough for the lax gate, far from the store's 500.
  for (let i = 0; i < 5; i++) await (await fetch(`${served.proxy}/api/notes/${i}`)).arrayBuffer();
  await until(
    'shadow evidence in the store',
    async () =>
      ((await adminRoute()).gate.checks.find((c) => c.name === 'minCompared') as { measured?: number })
        .measured! >= 3 || undefined,
    10_000,
  );
});

afterAll(async () => {
  await served?.stop();
  await legacy.close();
  await service.close();
  tmp.cleanup();
});

describe("the gate is the store's, whatever file the caller read (issue 29 case 2)", () => {
  it('a flip with -c lax.yaml is judged by the store gate: refused, as the admin API and console refuse it', async () => {
    // On main: exit 0, recorded as a plain flip.
    const flip = await cli(lax, ['flip', 'notes', 'canary', '--weight', '25']);
    expect(flip.code).toBe(4);
    expect(flip.err).toContain('STRANGLER_E_GATE_REFUSED');
    expect(flip.err).toContain('gate needs at least 500');
    const api = await adminFlip();
    expect(api.body.details?.refused?.code ?? api.body.error).toBe('STRANGLER_E_GATE_REFUSED');
    expect((await adminRoute()).gate.pass).toBe(false);
    const history = await cli(config, ['history', 'notes', '--json']);
    expect((JSON.parse(history.out) as { action: string }[]).map((e) => e.action)).toEqual(['seed']);
  });

  it('a looser gate gets into the store only by apply, marked as loosening a check; then every caller agrees', async () => {
    const dry = await cli(lax, ['apply', '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.out).toContain(
      '~ notes (shadow): loosens a check: gate.maxErrorRate, gate.maxP99Ratio, gate.minCompared, gate.minMatchRate',
    );
    expect(dry.out).toContain('gate.minCompared: 500 -> 1');
    expect((await cli(lax, ['apply', '--reason', 'thin evidence is enough here'])).code).toBe(0);
    // The audit row says so in text too, not only in --json (a probe of main).
    expect((await cli(lax, ['history', 'notes'])).out).toContain('loosens a check (gate.maxErrorRate');
    await until(
      'the console verdict to follow the store',
      async () => (await adminRoute()).gate.pass || undefined,
      5000,
    );
    expect((await adminFlip()).status).toBe(200);
    // The main file still says 500; the store's gate decides.
    const flip = await cli(config, [
      'flip',
      'notes',
      'canary',
      '--weight',
      '25',
      '--reason',
      'lax gate applied',
    ]);
    expect(flip.code).toBe(0);
    expect(flip.out).toContain('gate: pass');
  });
});
