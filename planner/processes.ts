/**
 * Which units run as their own process — a capability, never a library,
 * whatever imports them. The evidence, per unit:
 *
 *   - an entry script of the project starts one of its modules
 *     (`console_scripts nova-compute`; planner/entry-scripts.ts reads them);
 *   - a `__main__.py`, or `if __name__ == '__main__':` in a module (not in a
 *     foundation half the tree imports: there it is a self-test);
 *   - a long-running role: a class built on a service, manager, runner,
 *     worker, scheduler, daemon or server base (`ComputeManager(manager.Manager)`,
 *     `IncomingRunner(Runner)`, `BaseScheduler(ClusteredBuildbotService)`),
 *     unless other units subclass it (then it is a base class the unit
 *     provides, as `mailman.core.runner.Runner` is) or half the tree imports
 *     the unit (a foundation such as `buildbot.util`).
 */
import type { Unit } from './capability-units.js';
import type { ModuleFacts } from './python-facts.js';

/**
 * A base class naming a long-running role. A bare `Manager` (nova's RPC
 * manager base) counts, `KeyManager` or `ContextManager` do not.
 */
const ROLE_BASE = /(^|\.)(Manager|\w*(Runner|Worker|Scheduler|Service|Daemon))$/;
/** Names that are not processes even on such a base: zope interfaces, private or abstract bases, test doubles, mixins. */
const NOT_ROLE = /^(I[A-Z]|_|Abstract|Base|Fake|Mock|Stub|Test)|(Mixin|Base|Fake|Mock|Stub|Test\w*)$/;

export interface ProcessEvidence {
  /** Human-readable evidence, most telling first (`console_scripts nova-compute (nova.cmd.compute)`). */
  evidence: string[];
  /**
   * An entry script or a long-running role: a service to extract. Only
   * `__main__` (a launcher such as flask/__main__.py calling the CLI) keeps
   * the unit out of the libraries but is not, alone, something to extract.
   */
  service: boolean;
}

export function findProcesses(
  units: readonly Unit[],
  unitOf: ReadonlyMap<string, Unit>,
  facts: ReadonlyMap<string, ModuleFacts>,
  importerCount: (unit: string) => number,
): Map<string, ProcessEvidence> {
  // Class name -> units that subclass it (by the base's last component).
  const subclassedBy = new Map<string, Set<string>>();
  for (const [m, f] of facts) {
    const u = unitOf.get(m)?.name;
    if (!u) continue;
    for (const c of f.classes)
      for (const b of c.bases) {
        const name = b.slice(b.lastIndexOf('.') + 1);
        const set = subclassedBy.get(name) ?? new Set<string>();
        set.add(u);
        subclassedBy.set(name, set);
      }
  }
  const foundationAt = Math.max(3, Math.ceil(0.5 * (units.length - 1)));
  const out = new Map<string, ProcessEvidence>();
  for (const u of units) {
    const scripts: string[] = [];
    const mains: string[] = [];
    const roles: string[] = [];
    for (const m of u.modules) {
      const f = facts.get(m);
      for (const s of f?.scripts ?? []) scripts.push(`${s} (${m})`);
      // A foundation's self-test `__main__` or service base classes do not make it a process; a declared script does.
      if (importerCount(u.name) >= foundationAt) continue;
      if (m.endsWith('.__main__') || f?.runsAsMain) mains.push(m);
      for (const c of f?.classes ?? []) {
        if (NOT_ROLE.test(c.name) || !c.bases.some((b) => ROLE_BASE.test(b))) continue;
        const others = [...(subclassedBy.get(c.name) ?? [])].filter((x) => x !== u.name);
        if (others.length === 0) roles.push(`${c.name} (${m})`);
      }
    }
    const evidence = [
      ...(scripts.length > 0 ? [`entry scripts ${list(scripts)}`] : []),
      ...(mains.length > 0 ? [`runs as __main__: ${list(mains)}`] : []),
      ...(roles.length > 0 ? [`long-running ${roles.length === 1 ? 'role' : 'roles'} ${list(roles)}`] : []),
    ];
    if (evidence.length > 0) out.set(u.name, { evidence, service: scripts.length > 0 || roles.length > 0 });
  }
  return out;
}

const list = (xs: string[], max = 3): string =>
  xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')} and ${xs.length - max} more`;
