/**
 * Issue 17: `shadow report` right after `shadow reset` still says which paths
 * the config ignores. The patterns are in force before any evidence matches
 * them; the report used to list only ignored fields seen in the evidence, so a
 * reset made the config's `ignore` vanish from every format.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfigYaml, runCli, tempDir, writeConfig } from '../helpers/tmp.js';

const tmp = tempDir();
const cli = (...argv: string[]) => runCli(tmp.dir, { STRANGLER_ACTOR: 'tester' }, argv);

beforeAll(async () => {
  const yaml = demoConfigYaml({ store: 'sqlite:state.db' }).replace(
    '    mode: legacy\n',
    "    mode: legacy\n    shadow: { ignore: ['$.etag', '$.items[*].updated_at'] }\n",
  );
  writeConfig(tmp.dir, yaml);
  expect((await cli('seed')).code).toBe(0); // a read never seeds: serve or seed does
});
afterAll(() => tmp.cleanup());

describe('shadow report after shadow reset', () => {
  it('lists the config ignore paths in text, md, html and json', async () => {
    const reset = await cli('shadow', 'reset', 'block');
    expect(reset.code, reset.err).toBe(0);
    const text = await cli('shadow', 'report', 'block');
    expect(text.out).toContain('ignored by config: $.etag, $.items[*].updated_at\n');
    expect((await cli('shadow', 'report', 'block', '--format', 'md')).out).toContain(
      'Ignored by config: `$.etag`, `$.items[*].updated_at`',
    );
    expect((await cli('shadow', 'report', 'block', '--format', 'html')).out).toContain(
      'Ignored by config: <code>$.etag</code>, <code>$.items[*].updated_at</code>',
    );
    const json = JSON.parse((await cli('shadow', 'report', 'block', '--format', 'json')).out);
    expect(json.routes[0].ignorePatterns).toEqual(['$.etag', '$.items[*].updated_at']);
  });
});
