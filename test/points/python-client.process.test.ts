/**
 * The Python client's own unit tests (clients/python/tests, stdlib unittest
 * against a stand-in proxy on a real socket), run from the suite, and its
 * sticky canary hash checked against the proxy's for keys a monolith uses.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PYTHON, REPO_ROOT } from '../../examples/run.js';
import { POINT_METHOD } from '../../core/extraction-point.js';
import { isResendable } from '../../core/resend.js';
import { stickyPoint } from '../../proxy/choose-target.js';

const run = promisify(execFile);
const CLIENT_DIR = path.join(REPO_ROOT, 'clients/python');

describe('clients/python (strangler_client)', () => {
  it('passes its unittest suite', async () => {
    const { stderr } = await run(PYTHON, ['-m', 'unittest', 'discover', '-s', 'tests'], {
      cwd: CLIENT_DIR,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      timeout: 120_000,
    });
    expect(stderr).toMatch(/^OK/m);
  });

  it('is Python 3.8 syntax (ast feature_version), one stdlib-only file', async () => {
    const { stdout } = await run(
      PYTHON,
      [
        '-c',
        [
          'import ast, sys',
          'src = open("strangler_client.py").read()',
          'tree = ast.parse(src, "strangler_client.py", feature_version=(3, 8))',
          'mods = set()',
          'for n in ast.walk(tree):',
          '    if isinstance(n, ast.Import): mods.update(a.name.split(".")[0] for a in n.names)',
          '    elif isinstance(n, ast.ImportFrom): mods.add((n.module or "").split(".")[0])',
          'print(" ".join(sorted(m for m in mods if m not in sys.stdlib_module_names)))',
        ].join('\n'),
      ],
      { cwd: CLIENT_DIR },
    );
    expect(stdout.trim()).toBe('');
  });

  it('puts every key at the same canary point as the proxy', async () => {
    const keys = ['1', '7', '42', 'user-42', 'ada1', '', 'é€😀', 'x'.repeat(300)];
    const { stdout } = await run(
      PYTHON,
      [
        '-c',
        'import json,sys,strangler_client as s; print(json.dumps([s.sticky_point("block-check", k) for k in json.loads(sys.argv[1])]))',
        JSON.stringify(keys),
      ],
      { cwd: CLIENT_DIR },
    );
    const fromPython = JSON.parse(stdout) as number[];
    expect(fromPython).toEqual(keys.map((k) => stickyPoint('block-check', k)));
  });
  // The client keeps its own copy of the may-this-be-sent-again rule (it is
  // one stdlib file); core/resend.ts is the home. A point call is a POST
  // without an Idempotency-Key (core/extraction-point.ts), so the home says a
  // call may run again after the service may have acted exactly when the
  // point is idempotent; the client's fallback after a failed call must agree.
  it('runs a failed call again locally exactly when core/resend says a point call may be resent', async () => {
    const flags = [false, true];
    const home = flags.map((idempotent) =>
      isResendable({ method: POINT_METHOD, headers: {} }, { idempotent }),
    );
    const { stdout } = await run(
      PYTHON,
      [
        '-c',
        [
          'import json, sys, strangler_client as s',
          'c = s.Client(url="http://127.0.0.1:9")',
          'out = []',
          'for flag in json.loads(sys.argv[1]):',
          '    p = s._Point({"idempotent": flag, "mode": "service"})',
          '    try:',
          '        out.append(c._after_failure("pt", p, lambda: "ran", (), {}, "fallback-client-error", Exception("x")) == "ran")',
          '    except s.ServiceMayHaveActed:',
          '        out.append(False)',
          'print(json.dumps(out))',
        ].join('\n'),
        JSON.stringify(flags),
      ],
      { cwd: CLIENT_DIR, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
    );
    expect(home).toEqual([false, true]);
    expect(JSON.parse(stdout)).toEqual(home);
  });
});
