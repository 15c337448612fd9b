/**
 * Turns a Python source tree into a module graph, by Python's own naming and
 * import-resolution rules, without importing or running anything.
 *
 * PATH is a package folder (it has `__init__.py`; names start with the
 * folder's name) or a source root holding top-level packages and modules.
 * Each imported name resolves to itself if it is a module of the tree, else to
 * its parent if that is one (`from a.b import func`), else it is external and
 * dropped. Relative imports resolve against the importing module's package.
 */
import { type Dirent, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { StranglerError } from '../core/errors.js';
import { findEntryScripts } from './entry-scripts.js';
import { isEmptyFacts, type ModuleFacts, readModuleFacts } from './python-facts.js';
import { type RawImport, scanPythonSource } from './python-imports.js';
import { PYTHON_STDLIB } from './python-stdlib.js';
import type { ImportRecord, ModuleGraphInput, ModuleInfo, ScanProblem } from './types.js';

export interface ScanOptions {
  /** Globs (relative paths, `*`, `**`, `?`) of files or folders to skip. */
  exclude?: string[];
}

/** A scanned tree: the graph plus what each file says about tables and routes (not part of the JSON). */
export interface ScannedTree extends ModuleGraphInput {
  facts: Map<string, ModuleFacts>;
}

/** A glob over `/`-separated relative paths: `*` stays in one segment, `**` crosses them. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A bare name (no slash) matches at any depth, like .gitignore.
  return new RegExp(glob.includes('/') ? `^${re}(?:/.*)?$` : `(?:^|/)${re}(?:/.*)?$`);
}

interface FoundFile {
  rel: string;
  name: string;
  isPackage: boolean;
}

/** Files in a package folder that make it an app of its own (Tryton modules, Odoo addons). */
const PLUGIN_MANIFESTS = new Set(['tryton.cfg', '__manifest__.py', '__openerp__.py']);

function listPythonFiles(
  root: string,
  prefix: string[],
  exclude: RegExp[],
  problems: ScanProblem[],
  manifests: Map<string, string>,
): FoundFile[] {
  const out: FoundFile[] = [];
  // Real paths of the folders being walked: a symlink back to one of them is a loop.
  const open = new Set<string>();
  const walk = (dir: string, rel: string, parts: string[]): void => {
    const real = realpathSync(dir);
    if (open.has(real)) {
      problems.push({
        file: rel,
        line: 0,
        message: 'symlink loop: this folder links back to one being scanned (skipped)',
      });
      return;
    }
    open.add(real);
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      // The root itself was read by scanTree; a folder inside it that cannot be listed is reported, not fatal.
      problems.push({
        file: rel || '.',
        line: 0,
        message: `unreadable folder: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (skipped)`,
      });
      open.delete(real);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (exclude.some((r) => r.test(childRel))) continue;
      if (PLUGIN_MANIFESTS.has(e.name) && parts.length > 0) manifests.set(parts.join('.'), e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        // Followed like Python's import system does; a dangling link is reported.
        try {
          const st = statSync(path.join(dir, e.name));
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          if (e.name.endsWith('.py'))
            problems.push({ file: childRel, line: 0, message: 'dangling symlink (skipped)' });
          continue;
        }
      }
      if (isDir) {
        // Caches and hidden folders (.git, .venv, .tox) hold no modules of the tree.
        if (e.name.startsWith('.') || e.name === '__pycache__') continue;
        walk(path.join(dir, e.name), childRel, [...parts, e.name]);
      } else if (isFile && e.name.endsWith('.py')) {
        const stem = e.name.slice(0, -3);
        const isPackage = stem === '__init__';
        const nameParts = isPackage ? parts : [...parts, stem];
        if (nameParts.length === 0) continue; // __init__.py directly in a source root names no module
        out.push({ rel: childRel, name: nameParts.join('.'), isPackage });
      } else if (!isDir && !isFile && e.name.endsWith('.py')) {
        // A FIFO, socket or device named .py: reading it would block or mean nothing.
        problems.push({
          file: childRel,
          line: 0,
          message: 'not a regular file (FIFO, socket or device): skipped',
        });
      }
    }
    open.delete(real);
  };
  walk(root, '', prefix);
  // `foo.py` beside `foo/__init__.py`: Python imports the package and never the file.
  const packages = new Set(out.filter((f) => f.isPackage).map((f) => f.name));
  return out.filter((f) => {
    if (f.isPackage || !packages.has(f.name)) return true;
    problems.push({
      file: f.rel,
      line: 0,
      message: `shadowed by the package ${f.name.split('.').pop()}/ beside it (Python imports the package): not scanned`,
    });
    return false;
  });
}

/**
 * Syntax only Python 3 parses (f-strings, `async def`, `await`, `nonlocal`,
 * `yield from`, return annotations, keyword-only `*,`): a tree holding it is
 * Python 3 code.
 */
const PYTHON3_ONLY =
  /(^|[^\w'"])[fF][rR]?['"]|^[ \t]*async[ \t]+(def|with|for)\b|\bawait[ \t]+\w|^[ \t]*nonlocal[ \t]|\byield[ \t]+from\b|\)[ \t]*->[ \t]*[\w'"[]|\([ \t]*(self[ \t]*,[ \t]*)?\*[ \t]*,/m;
/** Syntax only Python 2 parses: print and exec statements, `except E, e:`, `raise E, msg` (backticks are left out: docstrings quote names in them). */
const PYTHON2_ONLY =
  /^[ \t]*print[ \t]+[^(\s=.,)]|^[ \t]*print[ \t]*>>|^[ \t]*exec[ \t]+['"\w]|^[ \t]*except[ \t]+[\w.]+[ \t]*,[ \t]*\w+[ \t]*:|^[ \t]*raise[ \t]+\w+[ \t]*,[ \t]*['"\w]/m;

/** How an import was resolved, when not by Python 3's own rules. */
export type Resolution = 'implicit-relative' | null;

/**
 * Resolve, and say how. A star import names a module, so it never falls back
 * to the parent package (`from a.b import *` of a missing `a.b` is external).
 * An absolute name that is not in the tree may be a Python 2 implicit relative
 * import (`from models import *` inside a package means `pkg.models` there),
 * unless the file opted out (`from __future__ import absolute_import`) or the
 * name is the standard library's.
 */
export function resolveImportHow(
  raw: RawImport,
  importer: string,
  importerIsPackage: boolean,
  modules: Set<string>,
  absoluteOnly = false,
): { to: string | null; how: Resolution } {
  let name = raw.name;
  const pkg = importerIsPackage ? importer.split('.') : importer.split('.').slice(0, -1);
  if (raw.level > 0) {
    if (raw.level - 1 > pkg.length - 1 || pkg.length === 0) return { to: null, how: null }; // beyond the top-level package
    const base = pkg.slice(0, pkg.length - (raw.level - 1)).join('.');
    name = name ? `${base}.${name}` : base;
  }
  const lookup = (full: string): string | null => {
    if (modules.has(full)) return full;
    if (raw.star) return null;
    const dot = full.lastIndexOf('.');
    if (dot > 0 && modules.has(full.slice(0, dot))) return full.slice(0, dot);
    return null;
  };
  const found = lookup(name);
  if (found !== null || raw.level > 0 || absoluteOnly || pkg.length === 0) return { to: found, how: null };
  const top = name.split('.')[0];
  if (PYTHON_STDLIB.has(top) || modules.has(top)) return { to: null, how: null };
  const implicit = lookup(`${pkg.join('.')}.${name}`);
  // `from x import y` where only the package resolves is not a sibling import.
  if (implicit === null || implicit === pkg.join('.')) return { to: null, how: null };
  return { to: implicit, how: 'implicit-relative' };
}

/** Scan a package folder or source root into modules and resolved imports. */
export function scanTree(root: string, options: ScanOptions = {}): ScannedTree {
  let abs = path.resolve(root);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(abs);
  } catch (err) {
    throw new StranglerError('STRANGLER_E_PLANNER_INPUT', `${root}: no such file or folder`, {
      cause: err,
      details: { path: root },
    });
  }
  if (!st.isDirectory())
    throw new StranglerError(
      'STRANGLER_E_PLANNER_INPUT',
      `${root}: not a folder (give a package folder or a source root, or --graph FILE)`,
      {
        details: { path: root },
      },
    );
  const exclude = (options.exclude ?? []).map(globToRegExp);
  const isFile = (p: string): boolean => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  const notes: string[] = [];
  let isPackageDir = isFile(path.join(abs, '__init__.py'));
  // A repository root of a src/ layout: modules are named as installed, from
  // inside src/, or every absolute import of the project would be dropped.
  if (!isPackageDir && isSrcLayout(abs)) {
    notes.push(
      `src/ layout: scanned ${path.join(abs, 'src')} as the source root (modules named as installed)`,
    );
    abs = path.join(abs, 'src');
    isPackageDir = false;
  }
  const problems: ScanProblem[] = [];
  const manifests = new Map<string, string>();
  const files = listPythonFiles(abs, isPackageDir ? [path.basename(abs)] : [], exclude, problems, manifests);
  if (files.length === 0)
    throw new StranglerError('STRANGLER_E_PLANNER_INPUT', `${root}: no Python (.py) files found`, {
      details: { path: root },
    });

  const moduleNames = new Set(files.map((f) => f.name));
  const segments = new Set([...moduleNames].map((n) => n.slice(n.lastIndexOf('.') + 1)));
  const modules: ModuleInfo[] = [];
  const imports: ImportRecord[] = [];
  const facts = new Map<string, ModuleFacts>();
  const implicit: string[] = [];
  // Read and tokenise every file first: whether the tree is Python 3 decides how imports resolve.
  const scanned: Array<{ f: FoundFile; src: string; scan: ReturnType<typeof scanPythonSource> }> = [];
  for (const f of files) {
    let src: string;
    try {
      src = readFileSync(path.join(abs, f.rel), 'utf8');
    } catch (err) {
      problems.push({ file: f.rel, line: 0, message: `unreadable: ${(err as Error).message}` });
      modules.push({ name: f.name, file: f.rel, loc: 0 });
      continue;
    }
    if (src.includes('\u0000')) {
      problems.push({ file: f.rel, line: 0, message: 'binary content (NUL bytes): not scanned' });
      modules.push({ name: f.name, file: f.rel, loc: 0 });
      continue;
    }
    scanned.push({ f, src, scan: scanPythonSource(src, { segments }) });
  }
  const python3Tree = scanned.some((x) => PYTHON3_ONLY.test(x.src));
  for (const { f, src, scan } of scanned) {
    modules.push({ name: f.name, file: f.rel, loc: scan.loc });
    for (const p of scan.problems) problems.push({ file: f.rel, line: p.line, message: p.message });
    // Python 2's implicit relative imports only in Python 2 code: a file that opted out, or
    // any file of a tree written in Python 3 syntax unless the file itself is Python 2.
    const absoluteOnly =
      scan.imports.some((r) => r.name === '__future__.absolute_import') ||
      (python3Tree && !PYTHON2_ONLY.test(src));
    const text = src.charCodeAt(0) === 0xfeff ? src.slice(1) : src;
    const found = readModuleFacts(text, scan.strings);
    const locals: Record<string, string> = {};
    const symbols: Array<[string, string]> = [];
    /** Local name -> [module, the imported name in it or '' for the module itself]. */
    const bindings = new Map<string, [string, string]>();
    for (const raw of scan.imports) {
      const { to, how } = resolveImportHow(raw, f.name, f.isPackage, moduleNames, absoluteOnly);
      if (to === null || to === f.name) continue;
      if (how === 'implicit-relative') implicit.push(`${f.rel}:${raw.line}`);
      imports.push({ from: f.name, to, kind: raw.kind, file: f.rel, line: raw.line, uses: raw.uses });
      if (raw.local !== undefined) locals[raw.local] = to;
      // `from m import Name` where Name is not a module: the name (a model class, a helper) is what is used.
      const symbol = raw.name.slice(raw.name.lastIndexOf('.') + 1);
      const isSymbol =
        !raw.star &&
        raw.name !== to &&
        !raw.name.endsWith(`.${to.split('.').pop()}`) &&
        !to.endsWith(`.${symbol}`);
      if (isSymbol) symbols.push([to, symbol]);
      if (raw.local !== undefined && raw.kind !== 'type_checking')
        bindings.set(raw.local, [to, isSymbol ? symbol : '']);
    }
    const refs = scopeReferences(scan.scopes, bindings);
    if (refs !== null) found.refs = refs;
    if (found.routes.length > 0 || found.registrations.length > 0) found.locals = locals;
    if (symbols.length > 0) found.symbols = symbols;
    if (!isEmptyFacts(found)) facts.set(f.name, found);
  }
  markProcesses(abs, moduleNames, facts, manifests, notes);
  if (implicit.length > 0)
    notes.push(
      `${implicit.length} Python 2 implicit relative import${implicit.length === 1 ? '' : 's'} resolved to a sibling module (e.g. ${implicit.slice(0, 3).join(', ')})`,
    );
  return { root: abs, modules, imports, problems, notes, facts };
}

/**
 * The scan's per-definition references, with import-bound names resolved to
 * the tree's modules (see ModuleFacts.refs); null when there are none.
 */
function scopeReferences(
  scopes: ReturnType<typeof scanPythonSource>['scopes'],
  bindings: ReadonlyMap<string, [string, string]>,
): NonNullable<ModuleFacts['refs']> | null {
  const out: NonNullable<ModuleFacts['refs']> = [];
  for (const [scope, s] of scopes) {
    const names = new Set<string>();
    for (const ref of s.refs) {
      const dot = ref.indexOf('.');
      const b = bindings.get(ref.slice(0, dot));
      if (!b) continue;
      // `from m import Name`: Name (and the attribute read on it: `Name.get`); `import m as x`: the attributes read on x.
      const attrs = ref.slice(dot + 1);
      const first = attrs.includes('.') ? attrs.slice(0, attrs.indexOf('.')) : attrs;
      names.add(`${b[0]}:${b[1] === '' ? attrs : first === '' ? b[1] : `${b[1]}.${first}`}`);
    }
    if (names.size + s.calls.size + s.chains.size === 0) continue;
    out.push({ scope, names: [...names], calls: [...s.calls], chains: [...s.chains] });
  }
  return out.length > 0 ? out : null;
}

/** Entry scripts (entry-scripts.ts) and plugin manifests, onto the facts of the modules they name. */
function markProcesses(
  root: string,
  moduleNames: ReadonlySet<string>,
  facts: Map<string, ModuleFacts>,
  manifests: ReadonlyMap<string, string>,
  notes: string[],
): void {
  const factsOf = (module: string): ModuleFacts => {
    let f = facts.get(module);
    if (!f) {
      f = readModuleFacts('', []);
      facts.set(module, f);
    }
    return f;
  };
  const tops = new Set([...moduleNames].map((n) => n.split('.')[0]));
  const scripts = findEntryScripts(root, (m) => moduleNames.has(m), tops);
  for (const s of scripts) {
    const f = factsOf(s.module);
    f.scripts = [...(f.scripts ?? []), `${s.group} ${s.name}`];
  }
  if (scripts.length > 0)
    notes.push(
      `${scripts.length} entry script${scripts.length === 1 ? '' : 's'} start modules of the tree as processes (from ${[...new Set(scripts.map((s) => s.from))].join(', ')})`,
    );
  for (const [pkg, file] of manifests) if (moduleNames.has(pkg)) factsOf(pkg).manifest = file;
}

/** A folder without `__init__.py` whose `src/` (also without one) holds a package. */
function isSrcLayout(dir: string): boolean {
  const src = path.join(dir, 'src');
  const exists = (p: string, dirWanted: boolean): boolean => {
    try {
      const st = statSync(p);
      return dirWanted ? st.isDirectory() : st.isFile();
    } catch {
      return false;
    }
  };
  if (!exists(src, true) || exists(path.join(src, '__init__.py'), false)) return false;
  return readdirSync(src).some((name) => exists(path.join(src, name, '__init__.py'), false));
}
/** Collapse modules to their package at `depth` dotted components (`--depth N`). */
export function collapseToDepth(input: ModuleGraphInput, depth: number): ModuleGraphInput {
  if (!Number.isInteger(depth) || depth < 1)
    throw new StranglerError('STRANGLER_E_USAGE', `--depth: expected a whole number >= 1, got ${depth}`);
  const cut = (name: string): string => name.split('.').slice(0, depth).join('.');
  const merged = new Map<string, ModuleInfo>();
  for (const m of input.modules) {
    const name = cut(m.name);
    const prev = merged.get(name);
    if (!prev) merged.set(name, { name, file: m.file, loc: m.loc });
    else {
      prev.loc += m.loc;
      // the package's own __init__ names the collapsed module best
      if (m.name === name) prev.file = m.file;
    }
  }
  const imports: ImportRecord[] = [];
  for (const imp of input.imports) {
    const from = cut(imp.from);
    const to = cut(imp.to);
    if (from !== to) imports.push({ ...imp, from, to });
  }
  return { ...input, modules: [...merged.values()], imports };
}
