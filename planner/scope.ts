/**
 * What the plan leaves out by default: code that is never extracted as a
 * service. Tests (their imports would make every module look depended on),
 * migrations (history of the schema, they follow their app), settings,
 * fixtures and seed data, `conftest.py` and the project-root `manage.py`.
 * `--include-tests` brings tests back; the rest is never a capability.
 *
 * Settings means Django's project settings — a `settings.py` module or a
 * `settings` package of configuration — not a folder that happens to be
 * named `settings` and holds pages (Horizon's Settings dashboard has a
 * `dashboard.py`, panels and `urls.py`). `manage.py` means the bootstrap
 * beside the project package; a `manage.py` deeper in the tree is code
 * (nova's `nova/cmd/manage.py` is the `nova-manage` command).
 */
import type { ModuleGraphInput } from './types.js';

export type LeftOutKind = 'tests' | 'migrations' | 'settings' | 'fixtures' | 'conftest.py' | 'manage.py';

const TEST_DIRS = new Set(['tests', 'test', 'testing', 'unittests', 'functional_tests', 'integration_tests']);
/**
 * Folders holding schema migrations, of every common tool: Django and yoyo
 * (`migrations/`), South (`south_migrations/`), Alembic (`alembic/`, and any
 * `versions/` beside an `env.py`), sqlalchemy-migrate (`migrate_repo/`, nova's
 * `legacy_migrations/`), buildbot (`db/migrations/`). A table only they create
 * or drop is neither owned nor used.
 */
const MIGRATION_DIRS = /^(\w*_)?migrations$|^alembic$|^migrate_repo$/;
const FIXTURE_DIRS = new Set(['fixtures', 'seeds']);

const LABEL: Record<LeftOutKind, string> = {
  tests: 'test module',
  migrations: 'migration',
  settings: 'settings module',
  fixtures: 'fixture or seed module',
  'conftest.py': 'conftest.py',
  'manage.py': 'manage.py',
};

/** Module stems that make a `settings` folder an app (pages, routes, models), not configuration. */
const APP_PARTS = new Set([
  'urls',
  'views',
  'dashboard',
  'panel',
  'models',
  'forms',
  'tables',
  'admin',
  'apps',
]);

/**
 * Folders named `settings` that hold an app rather than configuration: a
 * module of an app part (APP_PARTS) anywhere under them. Their paths are
 * dotted names of the folder (`openstack_dashboard.dashboards.settings`).
 */
export function settingsApps(names: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const n of names) {
    const parts = n.split('.');
    const at = parts.indexOf('settings');
    if (at < 0 || at === parts.length - 1) continue;
    if (parts.slice(at + 1).some((p) => APP_PARTS.has(p))) out.add(parts.slice(0, at + 1).join('.'));
  }
  return out;
}

/**
 * Why a module (by its file, or its dotted name for graph input) is left out,
 * or null. `alembicDirs`: folders holding an `env.py` (Alembic's, whose
 * `versions/` are migrations whatever the folder is called). `apps` are the
 * `settings` folders that hold an app (settingsApps).
 */
export function leftOutKind(
  file: string | null,
  name: string,
  alembicDirs: ReadonlySet<string> = new Set(),
  apps: ReadonlySet<string> = new Set(),
): LeftOutKind | null {
  const parts = file ? file.replace(/\.py$/, '').split('/') : name.split('.');
  const stem = parts[parts.length - 1];
  const dirs = file ? parts.slice(0, -1) : parts;
  if (stem === 'conftest') return 'conftest.py';
  // The project-root bootstrap only: a file at the scanned root, or a two-part name in a graph.
  if (stem === 'manage' && parts.length <= (file ? 1 : 2)) return 'manage.py';
  if (dirs.some((d) => MIGRATION_DIRS.test(d))) return 'migrations';
  const versions = dirs.lastIndexOf('versions');
  if (versions > 0 && alembicDirs.has(dirs.slice(0, versions).join('/'))) return 'migrations';
  if (stem === 'env' && file !== null && alembicDirs.has(dirs.join('/'))) return 'migrations';
  if (
    dirs.some((d) => TEST_DIRS.has(d)) ||
    stem === 'tests' ||
    stem === 'test' ||
    stem.startsWith('test_') ||
    stem.endsWith('_test') ||
    stem.endsWith('_tests')
  )
    return 'tests';
  const inSettingsApp = [...apps].some((a) => name === a || name.startsWith(`${a}.`));
  if (inSettingsApp) return null;
  if (
    dirs.some((d) => d === 'settings') ||
    stem === 'settings' ||
    stem.startsWith('settings_') ||
    stem.endsWith('_settings')
  )
    return 'settings';
  if (dirs.some((d) => FIXTURE_DIRS.has(d)) || stem === 'fixtures' || stem === 'seed' || stem === 'seeds')
    return 'fixtures';
  return null;
}

/** The graph without the left-out modules (and the imports touching them), with a note counting them. */
export function applyScope<T extends ModuleGraphInput>(
  input: T,
  includeTests: boolean,
): T & { leftOut: string[] } {
  const counts = new Map<LeftOutKind, number>();
  const gone = new Set<string>();
  // Alembic: a folder with an `env.py` and a `versions/` folder of revisions.
  const files = new Set(input.modules.map((m) => m.file ?? ''));
  const alembicDirs = new Set(
    [...files]
      .filter((f) => f.endsWith('/env.py'))
      .map((f) => f.slice(0, -'/env.py'.length))
      .filter((d) => [...files].some((f) => f.startsWith(`${d}/versions/`))),
  );
  const apps = settingsApps(input.modules.map((m) => m.name));
  for (const m of input.modules) {
    const kind = leftOutKind(m.file, m.name, alembicDirs, apps);
    if (kind === null || (kind === 'tests' && includeTests)) continue;
    gone.add(m.name);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  // Never leave nothing: a tree made only of tests is planned as it is.
  if (gone.size === 0 || gone.size === input.modules.length) return { ...input, leftOut: [] };
  const notes = [...(input.notes ?? [])];
  notes.push(
    `left out: ${[...counts].map(([k, n]) => `${n} ${LABEL[k]}${n === 1 ? '' : 's'}`).join(', ')}${counts.has('tests') ? ' (--include-tests brings tests back)' : ''}`,
  );
  return {
    ...input,
    modules: input.modules.filter((m) => !gone.has(m.name)),
    imports: input.imports.filter((i) => !gone.has(i.from) && !gone.has(i.to)),
    notes,
    leftOut: [...gone],
  };
}
