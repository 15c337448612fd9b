import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const commandsDir = path.join(root, 'cli/commands');

describe('CLI start-up stays light', () => {
  // `strangler --help` must start in well under half a second, so command
  // modules may import only commander and types at the top; the implementation
  // (zod, the SQLite addon, undici, the planner) loads inside the action.
  it('command modules import nothing heavy at the top level', () => {
    for (const f of readdirSync(commandsDir).filter((n) => n.endsWith('.ts'))) {
      const src = readFileSync(path.join(commandsDir, f), 'utf8');
      const staticImports = [...src.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)]
        .filter((m) => !m[1])
        .map((m) => m[2]);
      for (const spec of staticImports)
        expect(
          ['commander', '../io.js'].includes(spec) || (f === 'index.ts' && /^\.\/[a-z-]+\.js$/.test(spec)),
          `${f} imports ${spec}`,
        ).toBe(true);
    }
  });

  it('the installed bin prints help listing every command', () => {
    const bin = path.join(root, 'bin/strangler.js');
    expect(existsSync(path.join(root, 'dist/cli/main.js')), 'run npm run build first').toBe(true);
    const t0 = performance.now();
    const out = execFileSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    console.log(`strangler --help took ${(performance.now() - t0).toFixed(0)} ms (informational)`);
    for (const cmd of ['serve', 'routes', 'flip', 'history'])
      expect(out).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
  });
});
