/**
 * A flip's verdict applies to the version it judged (issue 30: a mutant that
 * dropped `expectVersion: before.version` from flipRoute's store write
 * survived every test). Here a real second writer — another store object on
 * the same SQLite file, as a second CLI process would be — flips the route
 * while the first flip's steps run; the first must then be refused as stale
 * and change nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type FlipStep, flipRoute } from '../../control/flip.js';
import { openStore } from '../../store/open.js';
import type { Store } from '../../store/types.js';
import { type Fixture, routeFixture } from './fixtures.js';

let fx: Fixture;
let other: Store | undefined;
afterEach(async () => {
  await other?.close();
  other = undefined;
  await fx.close();
});

describe('flipRoute compare-and-set', () => {
  it('refuses a flip when another writer flipped the route while its gate was judged', async () => {
    fx = await routeFixture({ mode: 'shadow' });
    other = await openStore(fx.config.store);
    const concurrent = other;
    // The step stands where the gate reads evidence: the window in which a
    // concurrent flip makes the verdict stale.
    const raceStep: FlipStep = async () => {
      await flipRoute(concurrent, fx.config, {
        route: 'block',
        mode: 'legacy',
        actor: 'bob',
        reason: 'abort',
      });
    };
    await expect(
      flipRoute(fx.store, fx.config, { route: 'block', mode: 'service', actor: 'alice', reason: 'go' }, [
        raceStep,
      ]),
    ).rejects.toMatchObject({ code: 'STRANGLER_E_STALE_VERSION' });

    const route = await fx.store.routes.get('block');
    expect(route).toMatchObject({ mode: 'legacy', actor: 'bob' });
    const flips = await fx.store.audit.list({ route: 'block', action: 'flip' });
    expect(flips.map((f) => [f.actor, f.after?.mode])).toEqual([['bob', 'legacy']]);
  });

  it('an explicit expectVersion that is behind is refused before any step runs', async () => {
    fx = await routeFixture({ mode: 'shadow' });
    let stepRan = false;
    const current = (await fx.store.routes.get('block'))!.version;
    await expect(
      flipRoute(
        fx.store,
        fx.config,
        { route: 'block', mode: 'legacy', actor: 'alice', expectVersion: current - 1 },
        [
          async () => {
            stepRan = true;
          },
        ],
      ),
    ).rejects.toMatchObject({ code: 'STRANGLER_E_STALE_VERSION' });
    expect(stepRan).toBe(false);
    expect((await fx.store.routes.get('block'))!.mode).toBe('shadow');
  });
});
