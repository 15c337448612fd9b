/**
 * Regression for issue 13 item 11: `flip --dry-run` reported the gate's
 * refusal (STRANGLER_E_GATE_REFUSED, exit 4) where the real flip fails
 * earlier, on the transition (STRANGLER_E_INVALID_FLIP, exit 2). A dry run
 * now answers with the refusal the real flip would throw.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfigYaml, runCli, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir();
beforeAll(async () => {
  writeConfig(tmp.dir, demoConfigYaml({ store: 'sqlite:state.db' }));
  expect((await runCli(tmp.dir, {}, ['seed'])).code).toBe(0);
});
afterAll(() => tmp.cleanup());

describe('flip --dry-run exits as the real flip would', () => {
  it('legacy → service (skips shadow, and no evidence): INVALID_FLIP, exit 2, both ways', async () => {
    const dry = await runCli(tmp.dir, {}, ['flip', 'block', 'service', '--dry-run']);
    const real = await runCli(tmp.dir, {}, ['flip', 'block', 'service']);
    expect(real.code).toBe(2);
    expect(real.err).toContain('STRANGLER_E_INVALID_FLIP');
    expect(dry.code).toBe(real.code);
    expect(dry.out).toContain('would be refused (STRANGLER_E_INVALID_FLIP)');
  });
});
