/**
 * DESIGN.md's folder rules, checked in CI rather than by memory:
 *   cli -> control/planner/reports -> store;  proxy -> shadow, store;
 *   reports read data and never import proxy;  core is a leaf everyone may use.
 * bench/, examples/ and test/ are checked too: production code never imports
 * them; bench and examples run without the test suite, so they never import
 * test/; test/ may import anything.
 */
const folder = (f) => `^${f}/`;
const forbid = (name, from, to, comment) => ({
  name,
  comment,
  severity: 'error',
  from: { path: from },
  to: { path: to },
});

module.exports = {
  forbidden: [
    forbid(
      'core-is-a-leaf',
      folder('core'),
      '^(proxy|shadow|control|store|planner|reports|cli|examples|bench)/',
      'core/ holds the shared vocabulary and imports nothing of ours',
    ),
    forbid(
      'store-is-below-everything',
      folder('store'),
      '^(proxy|shadow|control|planner|reports|cli)/',
      'store/ is the bottom layer',
    ),
    forbid(
      'proxy-uses-shadow-and-store-only',
      folder('proxy'),
      '^(control|planner|reports|cli)/',
      'DESIGN: proxy -> shadow, store',
    ),
    forbid(
      'shadow-is-data-plane',
      folder('shadow'),
      '^(control|planner|reports|cli)/',
      'shadow runs inside the proxy process: no control/cli imports',
    ),
    forbid(
      'reports-never-import-proxy',
      folder('reports'),
      '^proxy/',
      'DESIGN: reports read data and never import proxy',
    ),
    {
      name: 'reports-are-pure',
      comment:
        'reporters render data they are given: they may share the data types of other parts, never their code',
      severity: 'error',
      from: { path: folder('reports') },
      to: { path: '^(shadow|control|store|cli|planner)/', dependencyTypesNot: ['type-only'] },
    },
    forbid(
      'control-not-data-plane',
      folder('control'),
      '^(proxy|cli)/',
      'control talks to proxies through the store, not imports',
    ),
    forbid(
      'planner-standalone',
      folder('planner'),
      '^(proxy|shadow|control|cli)/',
      'planner reads source trees and the store only',
    ),
    forbid(
      'nothing-imports-cli',
      '^(proxy|shadow|control|store|planner|reports|core)/',
      folder('cli'),
      'cli is the top',
    ),
    forbid(
      'production-never-imports-test-bench-examples',
      '^(proxy|shadow|control|store|planner|reports|core|cli|console)/',
      '^(test|bench|examples)/',
      'production code never imports tests, benchmarks or the demo',
    ),
    forbid(
      'bench-and-examples-never-import-tests',
      '^(bench|examples)/',
      folder('test'),
      'bench and the demo run without the test suite and its helpers',
    ),
    forbid(
      'examples-never-import-bench',
      folder('examples'),
      folder('bench'),
      'the demo stands alone; benchmarks may use it, not the other way round',
    ),
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js'],
    },
  },
};
