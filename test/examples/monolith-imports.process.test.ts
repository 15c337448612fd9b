import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PYTHON, REPO_ROOT } from '../../examples/run.js';

// The planner's story needs a realistic graph with `block` as the obvious first
// extraction: it depends on db alone and feed, chat and app call it. Python's
// own ast reads every import, including those inside functions, under
// `if TYPE_CHECKING:` and in try/except ImportError.
const LIST_IMPORTS = `
import ast, json, pathlib, sys
out = {}
for f in sorted(pathlib.Path(sys.argv[1]).glob("*.py")):
    name = "monolith" if f.stem == "__init__" else "monolith." + f.stem
    deps = set()
    for node in ast.walk(ast.parse(f.read_text())):
        if isinstance(node, ast.Import):
            deps.update(a.name for a in node.names if a.name.startswith("monolith"))
        elif isinstance(node, ast.ImportFrom):
            base = "monolith" if node.level else (node.module or "")
            if node.level and node.module:
                base += "." + node.module
            if base == "monolith":
                deps.update("monolith." + a.name for a in node.names if a.name != "__version__")
                if any(a.name == "__version__" for a in node.names): deps.add("monolith")
            elif base.startswith("monolith."):
                deps.add(base)
    out[name] = sorted(deps)
print(json.dumps(out))
`;

describe('monolith import graph', () => {
  const graph: Record<string, string[]> = JSON.parse(
    execFileSync(PYTHON, ['-c', LIST_IMPORTS, path.join(REPO_ROOT, 'examples/monolith')], {
      encoding: 'utf8',
    }),
  );

  it('has block depend on db only, and feed, chat and app depend on block', () => {
    expect(graph['monolith.block']).toEqual(['monolith.db']);
    for (const caller of ['monolith.feed', 'monolith.chat', 'monolith.app'])
      expect(graph[caller], caller).toContain('monolith.block');
    expect(graph['monolith.feed']).toEqual(['monolith.block', 'monolith.db', 'monolith.users']);
    expect(graph['monolith.chat']).toEqual([
      'monolith.auth',
      'monolith.block',
      'monolith.db',
      'monolith.i18n',
      'monolith.users',
    ]);
    expect(graph['monolith.i18n']).toEqual(['monolith.db']);
    expect(graph['monolith.server']).toEqual(['monolith', 'monolith.app', 'monolith.db', 'monolith.seed']);
  });

  it('includes the late, TYPE_CHECKING and optional imports a real scanner must handle', () => {
    // users under TYPE_CHECKING and again inside current_user().
    expect(graph['monolith.auth']).toEqual(['monolith.db', 'monolith.users']);
    // i18n in try/except ImportError inside chat (checked above); db is the base layer.
    expect(graph['monolith.db']).toEqual([]);
    expect(graph['monolith.seed']).toEqual(['monolith.auth', 'monolith.db']);
    // chat imported inside a function.
    expect(graph['monolith.app']).toContain('monolith.chat');
  });
});
