import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from '../../core/config.js';

const doc = readFileSync(new URL('../../docs/config.md', import.meta.url), 'utf8');
const documented = new Set([...doc.matchAll(/^\| `([A-Za-z0-9.]+)` \|/gm)].map((m) => m[1]));

/** Every key path of an object schema, unwrapping defaults, optionals, arrays and records. */
function keyPaths(schema: z.ZodType, prefix = ''): string[] {
  let s: z.ZodType = schema;
  for (;;) {
    const def = (
      s as unknown as {
        def: {
          type: string;
          innerType?: z.ZodType;
          in?: z.ZodType;
          element?: z.ZodType;
          valueType?: z.ZodType;
        };
      }
    ).def;
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else if (def.type === 'array' && def.element) s = def.element;
    else if (def.type === 'record' && def.valueType) return keyPaths(def.valueType, '');
    else break;
  }
  if (!(s instanceof z.ZodObject)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(s.shape as Record<string, z.ZodType>)) {
    const path = prefix ? `${prefix}.${k}` : k;
    const nested = keyPaths(v, path);
    out.push(...(nested.length ? nested : [path]));
  }
  return out;
}

describe('docs/config.md', () => {
  it('documents every config key, and only keys that exist', () => {
    // Route and upstream keys are documented relative to their object (routes[] / upstream tables).
    const top = keyPaths(configSchema).filter((k) => !k.startsWith('routes.') && !k.startsWith('legacy.'));
    const route = keyPaths(configSchema)
      .filter((k) => k.startsWith('routes.'))
      .map((k) => k.slice('routes.'.length));
    const upstream = keyPaths(configSchema)
      .filter((k) => k.startsWith('legacy.'))
      .map((k) => k.slice('legacy.'.length));
    const expected = new Set([...top, ...route, ...upstream, 'legacy', 'services', 'routes']);
    for (const k of expected) expect(documented.has(k), `docs/config.md lacks ${k}`).toBe(true);
    for (const k of documented)
      expect(expected.has(k), `docs/config.md documents unknown key ${k}`).toBe(true);
  });
});
