/**
 * Modules that run as their own process, by what the project declares:
 * entry points of the script groups (`console_scripts`, `gui_scripts`,
 * `wsgi_scripts`, any `*_scripts`, and Paste's `paste.*_factory` apps) in
 * setup.cfg, pyproject.toml (`[project.scripts]`, `[project.gui-scripts]`,
 * `[project.entry-points.*]`, `[tool.poetry.scripts]`), setup.py
 * (`'nova-compute = nova.cmd.compute:main'` strings), and an installed
 * distribution's `*.dist-info/entry_points.txt` or
 * `*.egg-info/entry_points.txt` beside the package (Debian's
 * dist-packages). Plugin groups (`nova.api.extra_spec_validators`) are not
 * processes and are not read. Nothing is imported or run.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface EntryScript {
  /** The module the entry point names (`nova.cmd.compute`). */
  module: string;
  /** The script's name (`nova-compute`). */
  name: string;
  /** Its group (`console_scripts`). */
  group: string;
  /** The file that declares it, relative to the folder holding it. */
  from: string;
}

/** Groups whose entry points start a process. */
export const isProcessGroup = (group: string): boolean =>
  /(^|[._-])scripts$/.test(group) || /^paste\.\w+_factory$/.test(group) || group === 'project.scripts';

const ENTRY = /^[ \t]*([A-Za-z0-9_.-]+)[ \t]*=[ \t]*["']?([A-Za-z_][\w.]*)(?::[\w.]+)?["']?/;

/** INI-shaped files (entry_points.txt, setup.cfg's `[options.entry_points]`): `[group]` then `name = module:func`. */
function readIni(text: string, from: string, setupCfg: boolean): EntryScript[] {
  const out: EntryScript[] = [];
  let group: string | null = null;
  let inEntryPoints = !setupCfg;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '');
    const section = /^\[([^\]]+)\]/.exec(line);
    if (section) {
      inEntryPoints = setupCfg ? section[1].trim() === 'options.entry_points' : true;
      group = setupCfg ? null : section[1].trim();
      continue;
    }
    if (!inEntryPoints || line.trim() === '') continue;
    // setup.cfg: `console_scripts =` opens a group, indented lines are its entries.
    const opener = setupCfg ? /^([A-Za-z0-9_.-]+)[ \t]*=[ \t]*$/.exec(line) : null;
    if (opener) {
      group = opener[1];
      continue;
    }
    const m = ENTRY.exec(line);
    if (m && group && isProcessGroup(group)) out.push({ module: m[2], name: m[1], group, from });
  }
  return out;
}

/** pyproject.toml's script tables (PEP 621 and Poetry). */
function readPyproject(text: string, from: string): EntryScript[] {
  const out: EntryScript[] = [];
  let group: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '');
    const section = /^\[([^\]]+)\]/.exec(line.trim());
    if (section) {
      const s = section[1].trim();
      group =
        s === 'project.scripts' || s === 'tool.poetry.scripts'
          ? 'console_scripts'
          : s === 'project.gui-scripts'
            ? 'gui_scripts'
            : s.startsWith('project.entry-points.')
              ? s.slice('project.entry-points.'.length).replace(/^["']|["']$/g, '')
              : null;
      continue;
    }
    const m = ENTRY.exec(line);
    if (m && group && isProcessGroup(group)) out.push({ module: m[2], name: m[1], group, from });
  }
  return out;
}

/** setup.py: the `'name = module:func'` strings of an `entry_points=` argument, by group key. */
function readSetupPy(text: string, from: string): EntryScript[] {
  const at = text.indexOf('entry_points');
  if (at < 0) return [];
  const out: EntryScript[] = [];
  let group = 'console_scripts';
  const re =
    /['"]([A-Za-z0-9_.-]+)['"][ \t]*:|['"]([A-Za-z0-9_.-]+)[ \t]*=[ \t]*([A-Za-z_][\w.]*)(?::[\w.]+)?['"]/g;
  re.lastIndex = at;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[1] !== undefined) group = m[1];
    else if (isProcessGroup(group)) out.push({ module: m[3], name: m[2], group, from });
  }
  return out;
}

/** `nova-26.2.2.egg-info` -> `nova`, `Django-4.2.dist-info` -> `django`: the package a distribution is named for. */
const distTop = (name: string): string =>
  name
    .replace(/\.(dist|egg)-info$/, '')
    .replace(/-\d.*$/, '')
    .toLowerCase()
    .replace(/-/g, '_');

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Entry scripts declared for the tree at `root` (a package folder or a source
 * root): project files in it and in the folder above it (a repository's
 * root), and installed distributions' metadata beside the package (those
 * named for one of `tops`, the tree's top-level packages). `owns` says
 * whether a dotted module name is one of the tree's.
 */
export function findEntryScripts(
  root: string,
  owns: (module: string) => boolean,
  tops: ReadonlySet<string>,
): EntryScript[] {
  const out: EntryScript[] = [];
  const seen = new Set<string>();
  const take = (list: EntryScript[]): void => {
    for (const e of list) {
      const key = `${e.group}\u0000${e.name}\u0000${e.module}`;
      if (owns(e.module) && !seen.has(key)) {
        seen.add(key);
        out.push(e);
      }
    }
  };
  for (const dir of [root, path.dirname(root)]) {
    const cfg = readText(path.join(dir, 'setup.cfg'));
    if (cfg) take(readIni(cfg, 'setup.cfg', true));
    const toml = readText(path.join(dir, 'pyproject.toml'));
    if (toml) take(readPyproject(toml, 'pyproject.toml'));
    const setup = readText(path.join(dir, 'setup.py'));
    if (setup) take(readSetupPy(setup, 'setup.py'));
    let names: string[] = [];
    try {
      // Only the tree's own distributions: dist-packages holds hundreds of others.
      names = readdirSync(dir).filter(
        (n) =>
          (n.endsWith('.dist-info') || n.endsWith('.egg-info')) &&
          (tops.has(distTop(n)) ||
            (readText(path.join(dir, n, 'top_level.txt')) ?? '').split('\n').some((t) => tops.has(t.trim()))),
      );
    } catch {
      names = [];
    }
    for (const n of names) {
      const file = path.join(dir, n, 'entry_points.txt');
      if (!existsSync(file)) continue;
      const text = readText(file);
      if (text) take(readIni(text, `${n}/entry_points.txt`, false));
    }
  }
  return out;
}
