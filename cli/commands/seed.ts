import type { Command } from 'commander';
import type { CliIO } from '../io.js';

interface SeedOptions {
  config: string;
  actor?: string;
  reason?: string;
  force?: boolean;
  acceptRestore?: boolean;
}

export function register(program: Command, io: CliIO): void {
  program
    .command('seed')
    .description(
      'create the store if needed and seed the routes it has never held from the config (what `serve` does at start);\n' +
        'existing route state always wins over the config, and every seeded route is audited;\n' +
        'clears the lost mark a proxy left on a store that lost its state (stop every proxy first; audited);\n' +
        '--accept-restore: serve a store restored from an older backup (audited; raises its generation)',
    )
    .option('-c, --config <file>', 'config file', 'strangler.yaml')
    .option('-a, --actor <name>', 'who is seeding (recorded in the audit log)')
    .option('-r, --reason <text>', 'why (recorded in the audit log; required with --accept-restore)')
    .option(
      '--accept-restore',
      'the store went back to an older generation (restored from a backup): record both generations and raise it, so proxies serve the restored state',
    )
    .option('--force', 'seed or clear a lost mark even though proxies look live (recorded)')
    .action(async (opts: SeedOptions) => {
      if (opts.acceptRestore) return acceptRestoreCommand(io, opts);
      const { loadConfig } = await import('../../core/config.js');
      const { openStore } = await import('../../store/open.js');
      const { configPath, initStore, storeOptions, cliActor } = await import('../context.js');
      const config = loadConfig(configPath(io, opts.config));
      const newFile = await newSqliteFile(config.store);
      const store = await openStore(config.store, storeOptions(config, true, true));
      let removed = false;
      try {
        let overridden: Array<{ instance: string; why: string }>;
        try {
          overridden = await refuseOverLiveProxies(store, opts);
        } catch (err) {
          // A refused seed changes nothing: not even the empty file opening it made.
          if (newFile) removed = await removeNewFile(store, newFile);
          throw err;
        }
        await refuseLiveAdditions(store, config);
        const actor = opts.actor ?? cliActor(io);
        const { created, seeded } = await initStore(store, config, (l) => io.stdout.write(`${l}\n`), actor, {
          clearLostMark: true,
        });
        if (overridden.length) {
          await store.audit.append({
            actor,
            route: null,
            action: 'store.seed-forced',
            before: null,
            after: null,
            reason: opts.reason ?? 'seeded with --force while proxies looked live',
            details: { proxies: overridden },
          });
          io.stdout.write(
            `forced past live proxies (audited): ${overridden.map((p) => p.instance).join(', ')}\n`,
          );
        }
        if (!created && !seeded.length)
          io.stdout.write(`nothing to seed: ${store.label} holds every configured route\n`);
      } finally {
        if (!removed) await store.close();
      }
    });
}

/**
 * A seed that would name a fresh store or clear a lost mark changes what
 * the store says while proxies still serve their last good table from the
 * state before: refused while any proxy looks live (control/heartbeat.ts),
 * unless --force. A store that went back is not re-seeded at all: that is
 * --accept-restore's job (the mark names this very identity).
 */
async function refuseOverLiveProxies(
  store: import('../../store/types.js').Store,
  opts: SeedOptions,
): Promise<Array<{ instance: string; why: string }>> {
  const { markedLostError, markSatisfied } = await import('../../store/lost-mark.js');
  const mark = await store.lostMark();
  const identity = await store.identity();
  const generation = await store.routes.tableVersion();
  // The mark names this very store, at a generation it no longer has: an older copy of it.
  if (mark && identity && mark.lostId === identity.id && !markSatisfied(mark, identity.id, generation))
    throw markedLostError(store.label, {
      ...mark,
      wentBack: mark.wentBack ?? { from: mark.lastVersion ?? generation, to: generation },
    });
  if (!mark && identity) return []; // only adds routes the store never held: nothing served changes
  const { liveProxies } = await import('../../control/heartbeat.js');
  const live = await liveProxies(store);
  if (!live.length || opts.force) return live;
  const { StranglerError } = await import('../../core/errors.js');
  throw new StranglerError(
    'STRANGLER_E_PROXIES_LIVE',
    `${store.label}: refusing to ${identity ? 'clear the lost mark of' : 'seed'} this store while proxies serve from it: ${live
      .map((p) => `${p.instance} (${p.why})`)
      .join(
        ', ',
      )}; they would keep serving their last good route table while the store says otherwise. Stop them first, or pass --force --reason "…" (recorded)`,
    { details: { store: store.label, proxies: live } },
  );
}

/** The SQLite file `url` names when it does not exist yet (opening the store would create it), else undefined. */
async function newSqliteFile(url: string): Promise<string | undefined> {
  if (!url.startsWith('sqlite:')) return undefined;
  const file = url.slice('sqlite:'.length);
  const { existsSync } = await import('node:fs');
  return file !== ':memory:' && !existsSync(file) ? file : undefined;
}

async function removeNewFile(store: import('../../store/types.js').Store, file: string): Promise<true> {
  await store.close();
  const { rmSync } = await import('node:fs');
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  return true;
}

/**
 * On a store that already holds routes, `seed` adds only what moves no
 * traffic: new routes in `legacy` mode whose service the store already knows.
 * A new route in another mode, or one naming a service the store has no
 * upstream for, is a change of live definitions: `strangler apply` plans it,
 * refuses it unless forced, and audits it (a probe of main: `seed` put a new
 * route straight into canary 100%, and its unknown service answered 502).
 */
async function refuseLiveAdditions(
  store: import('../../store/types.js').Store,
  config: import('../../core/config.js').Config,
): Promise<void> {
  if (!(await store.identity())) return;
  const states = await store.routes.list();
  if (!states.length) return;
  const have = new Set(states.map((r) => r.id));
  const known = (await store.routes.definitions()).upstreams?.services;
  const problems: string[] = [];
  for (const r of config.routes) {
    if (have.has(r.id)) continue;
    if (r.mode !== 'legacy') problems.push(`route "${r.id}" would be added in ${r.mode} mode`);
    else if (known && !(r.service in known))
      problems.push(`route "${r.id}" names service "${r.service}", which the store has no upstream for`);
  }
  if (!problems.length) return;
  const { StranglerError } = await import('../../core/errors.js');
  throw new StranglerError(
    'STRANGLER_E_APPLY_REFUSED',
    `${store.label}: seed adds only legacy routes of known services to a store that holds routes: ${problems.join('; ')}. Nothing changed; \`strangler apply --dry-run\` shows the plan, and \`strangler apply\` makes the change (audited; --force --reason where it moves live traffic)`,
    { details: { store: store.label, problems } },
  );
}

async function acceptRestoreCommand(io: CliIO, opts: SeedOptions): Promise<void> {
  const { StranglerError } = await import('../../core/errors.js');
  if (!opts.reason?.trim())
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      '--accept-restore needs --reason "…" (recorded in the audit log with both generations)',
      { details: { field: 'reason' } },
    );
  const { loadConfig } = await import('../../core/config.js');
  const { openStore } = await import('../../store/open.js');
  const { configPath, storeOptions, cliActor } = await import('../context.js');
  const { acceptRestore } = await import('../../control/restore.js');
  const config = loadConfig(configPath(io, opts.config));
  const store = await openStore(config.store, storeOptions(config, false));
  try {
    const r = await acceptRestore(store, { actor: opts.actor ?? cliActor(io), reason: opts.reason });
    io.stdout.write(
      `accepted the restored state of ${store.label}: it went back from generation ${r.highestSeen} to ${r.restoredGeneration}; now at generation ${r.generation} (audited as store.restore-accepted)\n` +
        `proxies serve these route states from their next check:\n`,
    );
    for (const s of r.routes)
      io.stdout.write(`  ${s.id}: ${s.mode}${s.mode === 'canary' ? ` ${s.weight}%` : ''} (v${s.version})\n`);
  } finally {
    await store.close();
  }
}
