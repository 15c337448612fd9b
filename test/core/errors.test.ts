import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, StranglerError } from '../../core/errors.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| `(STRANGLER_E_[A-Z_]+)` \| (\d+) \| (\d+) \|/gm)].map((m) => [
    m[1],
    { status: Number(m[2]), exit: Number(m[3]) },
  ]),
);

describe('error registry', () => {
  it('documents every code with its HTTP status and exit code, and nothing else', () => {
    const codes = Object.keys(ERROR_CODES);
    expect([...documented.keys()].sort()).toEqual(codes.sort());
    for (const [code, spec] of Object.entries(ERROR_CODES))
      expect(documented.get(code), code).toEqual({ status: spec.status, exit: spec.exit });
  });

  it('keeps the cause and serialises to the documented JSON shape', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const e = new StranglerError('STRANGLER_E_UPSTREAM_REFUSED', undefined, {
      cause,
      details: { target: 'service' },
    });
    expect(e.cause).toBe(cause);
    expect(e.status).toBe(502);
    expect(e.toJSON()).toEqual({
      error: 'STRANGLER_E_UPSTREAM_REFUSED',
      message: 'upstream refused the connection',
      details: { target: 'service' },
    });
  });
});
