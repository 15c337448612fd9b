/**
 * bin/strangler.js starts node with the proxy's V8 flags (PROXY_NODE_FLAGS:
 * without them Node 24's proxy heap under load grew to 158 MB instead of 89,
 * and its RSS to 173–194 MB instead of 146–155),
 * and runs as an executable through its shebang (`env -S`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROXY_NODE_FLAGS } from '../../proxy/heap-tuning.js';

const BIN = fileURLToPath(new URL('../../bin/strangler.js', import.meta.url));

describe('bin/strangler.js', () => {
  it('passes PROXY_NODE_FLAGS in its shebang and runs through it', () => {
    const shebang = readFileSync(BIN, 'utf8').split('\n')[0];
    expect(shebang.startsWith('#!/usr/bin/env -S node ')).toBe(true);
    expect(shebang.split(' ').slice(3)).toEqual([...PROXY_NODE_FLAGS]);
    // Executed directly, so the shebang's flags are what node gets.
    const out = execFileSync(BIN, ['--help'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${process.execPath.replace(/\/node$/, '')}:${process.env.PATH}` },
    });
    expect(out).toContain('Usage: strangler');
  });
});
