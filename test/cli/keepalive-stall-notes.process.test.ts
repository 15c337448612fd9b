/**
 * The keep-alive stall finding where an operator looks: `strangler loadtest`
 * probes the targets it measured (a real Python http.server with Nagle on as
 * legacy, the same server with TCP_NODELAY as the service) and names only the
 * stalling one with both fixes; `strangler routes` and `report latency` print
 * what a proxy saved in the store (the proxy side: test/proxy/keepalive-stall),
 * and stop once the config applies the fix.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describeStall,
  type KeepAliveStallFinding,
  STALL_ADVICE,
  stallFindingKey,
} from '../../core/keepalive-stall.js';
import type { LoadtestResult } from '../../control/loadtest-result.js';
import { openStore } from '../../store/open.js';
import { demoConfigYaml, runCli, tempDir, writeConfig } from '../helpers/tmp.js';

const SERVER = fileURLToPath(new URL('../fixtures/proxy/nagle_server.py', import.meta.url));
const PYTHON = process.env.STRANGLER_PYTHON ?? '/usr/bin/python3';

const tmp = tempDir('strangler-stall-notes-');
const store = `sqlite:${path.join(tmp.dir, 'state.db')}`;
const servers: ChildProcess[] = [];
let legacyUrl = '';
let serviceUrl = '';

async function startNagleServer(nodelay: boolean): Promise<string> {
  const py = spawn(PYTHON, [SERVER, ...(nodelay ? ['--nodelay'] : [])], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  servers.push(py);
  const [line] = (await once(py.stdout!, 'data')) as [Buffer];
  return `http://127.0.0.1:${Number(line.toString().trim())}`;
}

beforeAll(async () => {
  legacyUrl = await startNagleServer(false);
  serviceUrl = await startNagleServer(true);
  writeConfig(tmp.dir, demoConfigYaml({ store, legacy: legacyUrl, service: serviceUrl }));
});

afterAll(() => {
  for (const py of servers) {
    py.stdin?.end();
    py.kill();
  }
  tmp.cleanup();
});

const cli = (...argv: string[]) => runCli(tmp.dir, {}, argv);

describe('keep-alive stall notes in the CLI', () => {
  // What `serve` does first: a read command never creates or seeds a store.
  beforeAll(async () => {
    expect((await cli('seed')).code).toBe(0);
  });

  it('loadtest names the stalling target with both fixes, and not the one with TCP_NODELAY', {
    retry: 2,
  }, async () => {
    const text = await cli(
      'loadtest',
      'block',
      '--targets',
      'legacy,service',
      '--duration',
      '1s',
      '--connections',
      '2',
    );
    expect(text.code).toBe(0);
    expect(text.out).toContain(`note: upstream legacy (${legacyUrl}) stalls on kept-alive connections`);
    expect(text.out).toContain(STALL_ADVICE);
    // The service is named once, as a measured target (issue 26), never in a stall note.
    expect(text.out).toContain(`service ${serviceUrl}/api/block/1`);
    expect(text.out.split('\n').filter((l) => l.includes(serviceUrl))).toHaveLength(1);
    const json = await cli(
      'loadtest',
      'block',
      '--targets',
      'legacy,service',
      '--duration',
      '1s',
      '--connections',
      '2',
      '--format',
      'json',
    );
    const result = JSON.parse(json.out) as LoadtestResult;
    expect(result.findings?.map((f) => [f.upstream, f.origin, f.stall])).toEqual([
      ['legacy', legacyUrl, true],
    ]);
    const f = result.findings![0];
    expect(f.reusedP50Ms).toBeGreaterThan(f.freshP50Ms);
  });

  it('routes and report latency print a stall a proxy saved; the note goes once the config says reuseConnections: false', async () => {
    const finding: KeepAliveStallFinding = {
      kind: 'keepalive-stall',
      stall: true,
      upstream: 'legacy',
      origin: legacyUrl,
      freshP50Ms: 1.9,
      reusedP50Ms: 44.2,
      freshSamples: 5,
      reusedSamples: 24,
      advice: STALL_ADVICE,
    };
    const s = await openStore(store);
    await s.results.put('finding', stallFindingKey('legacy', legacyUrl), finding);
    await s.close();
    const note = `note: ${describeStall(finding)}`;

    const routes = await cli('routes');
    expect(routes.code).toBe(0);
    expect(routes.out).toContain(note);
    const routesJson = await cli('routes', '--json');
    expect(Array.isArray(JSON.parse(routesJson.out))).toBe(true);
    expect(routesJson.err).toContain(note);
    const latency = await cli('report', 'latency');
    expect(latency.code).toBe(0);
    expect(latency.out).toContain(note);
    const latencyJson = JSON.parse((await cli('report', 'latency', '--format', 'json')).out);
    expect(latencyJson.findings).toEqual([finding]);

    // The fix applied in the config, then to the store (upstreams are route
    // definitions, issue 29): the stored finding no longer applies.
    writeConfig(
      tmp.dir,
      demoConfigYaml({ store, legacy: legacyUrl, service: serviceUrl }).replace(
        `legacy: { url: ${legacyUrl} }`,
        `legacy: { url: ${legacyUrl}, reuseConnections: false }`,
      ),
    );
    expect((await cli('routes')).out).toContain('stalls on kept-alive');
    expect((await cli('apply')).code).toBe(0);
    expect((await cli('routes')).out).not.toContain('stalls on kept-alive');
    expect((await cli('report', 'latency')).out).not.toContain('stalls on kept-alive');
  });
});
