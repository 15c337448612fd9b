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
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { StranglerError } from '../core/errors.js';
import { type RawImport, scanPythonSource } from './python-imports.js';
import type { ImportRecord, ModuleGraphInput, ModuleInfo, ScanProblem } from './types.js';

export interface ScanOptions {
  /** Globs (relative paths, `*`, `**`, `?`) of files or folders to skip. */
  exclude?: string[];
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

function listPythonFiles(root: string, prefix: string[], exclude: RegExp[]): FoundFile[] {
  const out: FoundFile[] = [];
  const walk = (dir: string, rel: string, parts: string[]): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const e of entries) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (exclude.some((r) => r.test(childRel))) continue;
      if (e.isDirectory()) {
        // Caches and hidden folders (.git, .venv, .tox) hold no modules of the tree.
        if (e.name.startsWith('.') || e.name === '__pycache__') continue;
        walk(path.join(dir, e.name), childRel, [...parts, e.name]);
      } else if (e.isFile() && e.name.endsWith('.py')) {
        const stem = e.name.slice(0, -3);
        const isPackage = stem === '__init__';
        const nameParts = isPackage ? parts : [...parts, stem];
        if (nameParts.length === 0) continue; // __init__.py directly in a source root names no module
        out.push({ rel: childRel, name: nameParts.join('.'), isPackage });
      }
    }
  };
  walk(root, '', prefix);
  return out;
}

/** Resolve one written import to a module of the tree, or null when external. */
export function resolveImport(
  raw: RawImport,
  importer: string,
  importerIsPackage: boolean,
  modules: Set<string>,
): string | null {
  let name = raw.name;
  if (raw.level > 0) {
    const pkg = importerIsPackage ? importer.split('.') : importer.split('.').slice(0, -1);
    if (raw.level - 1 > pkg.length - 1 || pkg.length === 0) return null; // beyond the top-level package
    const base = pkg.slice(0, pkg.length - (raw.level - 1)).join('.');
    name = name ? `${base}.${name}` : base;
  }
  if (modules.has(name)) return name;
  const dot = name.lastIndexOf('.');
  if (dot > 0) {
    const parent = name.slice(0, dot);
    if (modules.has(parent)) return parent;
  }
  return null;
}

/** Scan a package folder or source root into modules and resolved imports. */
export function scanTree(root: string, options: ScanOptions = {}): ModuleGraphInput {
  const abs = path.resolve(root);
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
  let isPackageDir = false;
  try {
    isPackageDir = statSync(path.join(abs, '__init__.py')).isFile();
  } catch {
    isPackageDir = false;
  }
  const files = listPythonFiles(abs, isPackageDir ? [path.basename(abs)] : [], exclude);
  if (files.length === 0)
    throw new StranglerError('STRANGLER_E_PLANNER_INPUT', `${root}: no Python (.py) files found`, {
      details: { path: root },
    });

  const moduleNames = new Set(files.map((f) => f.name));
  const modules: ModuleInfo[] = [];
  const imports: ImportRecord[] = [];
  const problems: ScanProblem[] = [];
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
    const scan = scanPythonSource(src);
    modules.push({ name: f.name, file: f.rel, loc: scan.loc });
    for (const p of scan.problems) problems.push({ file: f.rel, line: p.line, message: p.message });
    for (const raw of scan.imports) {
      const to = resolveImport(raw, f.name, f.isPackage, moduleNames);
      if (to === null || to === f.name) continue;
      imports.push({ from: f.name, to, kind: raw.kind, file: f.rel, line: raw.line, uses: raw.uses });
    }
  }
  return { root: abs, modules, imports, problems };
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
  return { root: input.root, modules: [...merged.values()], imports, problems: input.problems };
}
