/**
 * Which unit each module belongs to. A unit is what a team would extract or
 * share as a whole, never a single helper file: a Django app (a package with
 * `apps.py` or `models`), a Flask blueprint's package, a plugin with its own
 * manifest (a Tryton module's `tryton.cfg`), else the package at a depth
 * chosen from the tree's shape (`--depth N` overrides it). A package at that
 * depth that holds several apps of its own — subpackages with their own
 * routes or WSGI/Paste entry script, as nova.api holds the compute API and
 * the metadata API — is cut at those seams instead (`splitAtSeams`).
 */
import type { ModuleFacts } from './python-facts.js';
import type { ModuleInfo } from './types.js';

export type UnitSource = 'django-app' | 'blueprint' | 'feature' | 'package' | 'module';

export interface Unit {
  name: string;
  source: UnitSource;
  modules: string[];
  /** Django app label (`AppConfig.label`, else the package's last name): the default table prefix. */
  appLabel: string | null;
}

export interface UnitAssignment {
  units: Unit[];
  unitOf: Map<string, Unit>;
  /** The package depth used for modules outside apps and blueprints. */
  depth: number;
  /** True when the depth was chosen here, not given. */
  autoDepth: boolean;
}

const parentOf = (name: string): string => name.slice(0, Math.max(0, name.lastIndexOf('.')));
const prefixAt = (name: string, depth: number): string => name.split('.').slice(0, depth).join('.');

/** Components shared by every module name (`django` for Django's own tree): the tree's base. */
function commonDepth(names: string[]): number {
  if (names.length === 0) return 0;
  let common = names[0].split('.');
  for (const n of names) {
    const parts = n.split('.');
    let k = 0;
    while (k < common.length && k < parts.length && common[k] === parts[k]) k++;
    common = common.slice(0, k);
    if (common.length === 0) break;
  }
  // a lone module's own name is not a package base
  return names.length === 1 ? Math.max(0, common.length - 1) : common.length;
}

/** Packages named for a layer of a layered app: a feature is sliced across them. */
const LAYERS = new Set([
  'models',
  'views',
  'api',
  'serializers',
  'forms',
  'admin',
  'tasks',
  'viewsets',
  'resources',
  'schemas',
  'services',
  'handlers',
  'controllers',
  'repositories',
  'routes',
  'templatetags',
]);
/** Module stems that are plumbing in any layer, never a feature. */
const NOT_FEATURES = new Set([
  'base',
  'utils',
  'util',
  'helpers',
  'common',
  'core',
  'mixins',
  'fields',
  'managers',
  'compat',
  'index',
  'init',
]);

/** `categories` and `category`, `tags` and `tag`: one feature. */
function featureStem(stem: string): string {
  const s = stem.toLowerCase().replace(/_(forms?|views?|api|serializers?|admin|tasks?)$/, '');
  if (s.endsWith('ies') && s.length > 4) return `${s.slice(0, -3)}y`;
  if (s.endsWith('s') && !s.endsWith('ss') && s.length > 3) return s.slice(0, -1);
  return s;
}

/**
 * A layered package (`pkg/models/thread.py`, `pkg/views/thread.py`,
 * `pkg/api/thread.py`) holds its features across layers: a stem found in the
 * models layer and at least one other is one feature unit, `pkg:thread`.
 */
function findFeatures(all: string[], packages: Set<string>): Map<string, Unit> {
  const names = new Set(all);
  const byPackage = new Map<string, Map<string, Map<string, string[]>>>();
  for (const n of all) {
    if (packages.has(n)) continue;
    const parts = n.split('.');
    if (parts.length < 3) continue;
    const layer = parts[parts.length - 2];
    if (!LAYERS.has(layer)) continue;
    const stem = featureStem(parts[parts.length - 1]);
    if (NOT_FEATURES.has(stem)) continue;
    const owner = parts.slice(0, -2).join('.');
    const stems = byPackage.get(owner) ?? new Map<string, Map<string, string[]>>();
    const layers = stems.get(stem) ?? new Map<string, string[]>();
    const list = layers.get(layer) ?? [];
    list.push(n);
    layers.set(layer, list);
    stems.set(stem, layers);
    byPackage.set(owner, stems);
  }
  const moduleFeature = new Map<string, Unit>();
  for (const [owner, stems] of byPackage)
    for (const [stem, layers] of stems) {
      // A feature has data (a module in the models layer, or a models module
      // beside the layers) and something on top of it.
      if (layers.size < 2 || !(layers.has('models') || names.has(`${owner}.models`))) continue;
      const unit: Unit = { name: `${owner}:${stem}`, source: 'feature', modules: [], appLabel: null };
      for (const mods of layers.values()) for (const m of mods) moduleFeature.set(m, unit);
    }
  return moduleFeature;
}

/**
 * A `models` module (or package) without `apps.py` marks a Django app when it
 * defines a Django model of its own (`class X(models.Model)`, no other app's
 * `Meta.app_label`) or the package has migrations — not for SQLAlchemy
 * models or a database backend's models of another app.
 */
function isDjangoModels(
  models: string,
  facts: ReadonlyMap<string, ModuleFacts>,
  names: ReadonlySet<string>,
): boolean {
  const pkg = parentOf(models);
  if (names.has(`${pkg}.migrations`)) return true;
  const label = pkg.slice(pkg.lastIndexOf('.') + 1);
  for (const [m, f] of facts) {
    if (m !== models && !m.startsWith(`${models}.`)) continue;
    // Models declaring another app's label (a database backend's `app_label = 'gis'`) belong to that app.
    if (
      f.classes.some(
        (c) => !c.sqlalchemy && c.bases.includes('models.Model') && (c.appLabel ?? label) === label,
      )
    )
      return true;
  }
  return false;
}

export function assignUnits(
  modules: ModuleInfo[],
  facts: ReadonlyMap<string, ModuleFacts>,
  depthOverride?: number,
  leftOut: string[] = [],
): UnitAssignment {
  const names = modules.map((m) => m.name);
  const nameSet = new Set(names);
  const base = commonDepth(names);
  const packages = new Set(
    modules.filter((m) => m.file !== null && /(^|\/)__init__\.py$/.test(m.file)).map((m) => m.name),
  );
  const isPackageName = (name: string): boolean => packages.has(name);

  // Django apps: a package with `apps.py`, or with `models` beside an app's
  // other parts (admin, views, urls, migrations). A database backend's
  // `models.py` alone does not make an app. The tree's own base package is
  // not one either: a single-app project is split inside it.
  const everything = new Set([...names, ...leftOut]);
  const apps = new Map<string, Unit>();
  for (const n of names) {
    const last = n.slice(n.lastIndexOf('.') + 1);
    if (last !== 'models' && last !== 'apps') continue;
    const pkg = parentOf(n);
    if (pkg === '' || pkg.split('.').length <= base || apps.has(pkg)) continue;
    if (last === 'models' && !everything.has(`${pkg}.apps`) && !isDjangoModels(n, facts, everything))
      continue;
    const cfg = facts.get(`${pkg}.apps`);
    apps.set(pkg, {
      name: pkg,
      source: 'django-app',
      modules: [],
      appLabel: cfg?.appLabel ?? pkg.slice(pkg.lastIndexOf('.') + 1),
    });
  }
  // Flask blueprints: the package holding the blueprint's module, unless that
  // package holds other blueprints too (then the module itself).
  const blueprintModules = names.filter((n) => (facts.get(n)?.blueprints.length ?? 0) > 0);
  const perPackage = new Map<string, number>();
  for (const n of blueprintModules) {
    const pkg = nameSet.has(n) && isPackageName(n) ? n : parentOf(n);
    perPackage.set(pkg, (perPackage.get(pkg) ?? 0) + 1);
  }
  const blueprints = new Map<string, Unit>();
  for (const n of blueprintModules) {
    const pkg = isPackageName(n) ? n : parentOf(n);
    const unit = pkg !== '' && pkg.split('.').length > base && perPackage.get(pkg) === 1 ? pkg : n;
    if (!apps.has(unit) && !blueprints.has(unit))
      blueprints.set(unit, { name: unit, source: 'blueprint', modules: [], appLabel: null });
  }
  // Plugins with a manifest of their own (Tryton modules, Odoo addons): one unit each.
  for (const [n, f] of facts)
    if (f.manifest && nameSet.has(n) && !apps.has(n) && !blueprints.has(n))
      blueprints.set(n, { name: n, source: 'package', modules: [], appLabel: null });
  const special = new Map<string, Unit>([...blueprints, ...apps]);
  const features = findFeatures(names, packages);
  const specialOf = (n: string): Unit | undefined => {
    const feature = features.get(n);
    if (feature) return feature;
    for (let p = n; p !== ''; p = parentOf(p)) {
      const u = special.get(p);
      if (u) return u;
    }
    return undefined;
  };

  // The package depth: one below the base, deeper while that leaves fewer
  // than three units in all (apps and blueprints count).
  const rest = names.filter((n) => specialOf(n) === undefined);
  let depth = depthOverride ?? base + 1;
  const autoDepth = depthOverride === undefined;
  if (autoDepth) {
    const deepest = Math.max(0, ...rest.map((n) => n.split('.').length));
    while (depth < deepest && depth < base + 3) {
      const distinct = new Set(rest.map((n) => prefixAt(n, depth))).size + special.size;
      if (distinct >= 3) break;
      depth++;
    }
  }

  const units = new Map<string, Unit>();
  const unitOf = new Map<string, Unit>();
  for (const m of modules) {
    let u = specialOf(m.name);
    if (!u) {
      const name = prefixAt(m.name, depth);
      u = units.get(name);
      if (!u) {
        u = {
          name,
          source: name === m.name && !isPackageName(name) ? 'module' : 'package',
          modules: [],
          appLabel: null,
        };
        units.set(name, u);
      }
    } else if (!units.has(u.name)) units.set(u.name, u);
    u.modules.push(m.name);
    unitOf.set(m.name, u);
  }
  // A unit named after a module that turns out to hold more (a package with submodules) is a package.
  for (const u of units.values()) if (u.source === 'module' && u.modules.length > 1) u.source = 'package';
  if (depthOverride === undefined) splitAtSeams(units, unitOf, facts, packages);
  return { units: [...units.values()], unitOf, depth, autoDepth };
}

/** A module that is an app's own door: it holds routes, or a WSGI/Paste entry script starts it. */
function isSeamModule(f: ModuleFacts | undefined): boolean {
  if (!f) return false;
  if (f.routes.length > 0 || (f.children?.length ?? 0) > 0) return true;
  return (f.scripts ?? []).some((s) => /^(wsgi_scripts|paste\.)/.test(s));
}

/**
 * Cut a depth-cut package at its own seams: when two or more of its
 * subpackages (at any depth) are apps of their own (isSeamModule), each
 * becomes a unit, and the rest of the package stays one. Nested seams keep
 * the outermost. Django apps, blueprints and plugins are already units.
 */
function splitAtSeams(
  units: Map<string, Unit>,
  unitOf: Map<string, Unit>,
  facts: ReadonlyMap<string, ModuleFacts>,
  packages: ReadonlySet<string>,
): void {
  for (const u of [...units.values()]) {
    if (u.source !== 'package') continue;
    const seams = new Set<string>();
    for (const m of u.modules) {
      if (!isSeamModule(facts.get(m))) continue;
      const pkg = packages.has(m) ? m : parentOf(m);
      if (pkg !== u.name && pkg.startsWith(`${u.name}.`)) seams.add(pkg);
    }
    const outer = [...seams].filter((s) => ![...seams].some((o) => o !== s && s.startsWith(`${o}.`)));
    if (outer.length < 2) continue;
    for (const seam of outer.sort()) {
      const part: Unit = { name: seam, source: 'package', modules: [], appLabel: null };
      u.modules = u.modules.filter((m) => {
        if (m !== seam && !m.startsWith(`${seam}.`)) return true;
        part.modules.push(m);
        unitOf.set(m, part);
        return false;
      });
      units.set(seam, part);
    }
    if (u.modules.length === 0) units.delete(u.name);
  }
}
