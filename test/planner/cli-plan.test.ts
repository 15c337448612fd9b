import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../../cli/io.js';
import { run } from '../../cli/main.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/planner');
const MONOLITH = path.resolve(import.meta.dirname, '../../examples/monolith');
const tmp = mkdtempSync(path.join(tmpdir(), 'strangler-plan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: {},
    cwd: FIXTURES,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

describe('strangler plan', () => {
  it('plans the demo monolith with its config and prints block first', async () => {
    // the demo's route for block, with a store in a temp folder (--config saves the plan there)
    const config = path.join(tmp, 'demo.yaml');
    writeFileSync(
      config,
      [
        'store: sqlite:demo.db',
        'legacy: { url: "http://127.0.0.1:1" }',
        'services: { block-service: { url: "http://127.0.0.1:2" } }',
        'routes:',
        '  - { id: block, match: { path: /api/block/*, methods: [GET, POST, DELETE] }, service: block-service, module: monolith.block }',
      ].join('\n'),
    );
    const res = await cli('plan', MONOLITH, '--config', config, '--no-git');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /Extract first: monolith\.block \(score [\d.]+\): serves GET,POST,DELETE \/api\/block\/\*; owns blocks; depends on no other capability/,
    );
    expect(res.stdout).toContain("Shared libraries (copy or package them, don't extract them)");
  });

  it('plans a --graph file relative to the working folder, as JSON', async () => {
    const res = await cli('plan', '--graph', 'graphs/shop.json', '--format', 'json');
    expect(res.code).toBe(0);
    const plan = JSON.parse(res.stdout);
    expect(plan.order[0]).toBe('shop.db');
    expect(plan.cuts).toHaveLength(1);
  });

  it('collapses to --depth and writes --out', async () => {
    const out = path.join(tmp, 'plan.mmd');
    const res = await cli('plan', 'py2tree', '--depth', '1', '--format', 'mermaid', '--out', out, '--no-git');
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('plan written to');
    const mmd = readFileSync(out, 'utf8');
    expect(mmd.startsWith('flowchart BT')).toBe(true);
    expect(mmd).toContain('"1. legacy"');
  });

  it('skips --exclude globs', async () => {
    const res = await cli('plan', 'py2tree/legacy', '--exclude', 'sub', '--format', 'json', '--no-git');
    const names = JSON.parse(res.stdout)
      .modules.map((m: { name: string }) => m.name)
      .sort();
    expect(names).toEqual(['legacy', 'legacy.broken', 'legacy.helpers']);
  });

  it('exits 2 with STRANGLER_E_PLANNER_INPUT naming a bad PATH', async () => {
    const res = await cli('plan', 'no/such/dir');
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(
      `STRANGLER_E_PLANNER_INPUT: ${path.join(FIXTURES, 'no/such/dir')}: no such file or folder`,
    );
  });

  it('exits 2 naming an unreadable graph', async () => {
    const res = await cli('plan', '--graph', 'graphs/bad-edge.json');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(
      /STRANGLER_E_PLANNER_INPUT: .*bad-edge\.json: imports\[0\]\.to: unknown module "ghost"/,
    );
  });

  it('exits 2 on a bad --format or --depth, naming the option', async () => {
    const f = await cli('plan', MONOLITH, '--format', 'pdf');
    expect(f.code).toBe(2);
    expect(f.stderr).toContain('--format: expected one of text, json, dot, mermaid, html, got "pdf"');
    const d = await cli('plan', MONOLITH, '--depth', 'zero');
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('--depth');
  });
});
