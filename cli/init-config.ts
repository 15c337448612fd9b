/**
 * `strangler init`: the first config a new user gets. A commented template
 * that is valid as written (legacy only, no routes yet: every request goes to
 * the monolith), checked with the same schema as every other config before it
 * is written, and never written over an existing file.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseConfig } from '../core/config.js';
import { StranglerError, isStranglerError } from '../core/errors.js';

export interface InitOptions {
  legacy: string;
  listen: string;
  adminListen: string;
}

/** A plain scalar when it reads as one, else a quoted one: what the user typed cannot add YAML of its own. */
function scalar(v: string): string {
  return /^[A-Za-z0-9[][\w:/.@%?=&+~[\]-]*$/.test(v) && !v.startsWith('[') ? v : JSON.stringify(v);
}

/** The option that set each templated field, for messages. */
const OPTION_OF: Record<string, string> = {
  'legacy.url': '--legacy',
  listen: '--listen',
  'admin.listen': '--admin-listen',
};

/**
 * The installed docs/config.md (the package ships docs/): a path the user can
 * open on this machine, not "the README" of a repository they may never see.
 */
export function installedConfigDoc(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/cli/init-config.js in a package, cli/init-config.ts in a checkout.
  for (const up of ['../..', '..']) {
    const doc = path.resolve(here, up, 'docs/config.md');
    if (existsSync(doc)) return doc;
  }
  return 'docs/config.md in the strangler package';
}

export function renderInitConfig(o: InitOptions, configDoc: string = installedConfigDoc()): string {
  return `# strangler config: written by \`strangler init\`. Every option and its default:
#   ${configDoc}
# Check it with \`strangler seed\` (reads this file, creates the store and
# seeds the routes), then \`strangler routes\` lists them; \`strangler serve\`
# does the same at start.

# Where the proxy listens: point clients (or your load balancer) here.
listen: ${scalar(o.listen)}

# The admin API (flips, history, metrics). Mutations need
# Authorization: Bearer $STRANGLER_ADMIN_TOKEN (at least 16 characters).
admin:
  listen: ${scalar(o.adminListen)}

# Runtime modes, the audit log and shadow evidence; relative to this file.
# For several proxy instances: redis://HOST:PORT
store: sqlite:.strangler/state.db

# The monolith: every request no route claims goes here.
legacy:
  url: ${scalar(o.legacy)}

# Extracted services, by name. Uncomment and point at your first service:
services: {}
#  block-service:
#    url: http://127.0.0.1:9000

# Routes move one at a time: legacy -> shadow -> canary -> service.
# Find a first candidate with \`strangler plan PATH/TO/MONOLITH\`.
routes: []
#  - id: block
#    match: { path: /api/block/*, methods: [GET, POST, DELETE] }
#    service: block-service
#    module: monolith.block    # the Python module behind it (for the planner)
#    mode: legacy              # then: strangler flip block shadow
`;
}

/** Write the template to `file`; refuses to replace an existing file. */
export function writeInitConfig(file: string, o: InitOptions): void {
  const text = renderInitConfig(o);
  try {
    parseConfig(parse(text), file);
  } catch (err) {
    if (!isStranglerError(err)) throw err;
    // The template is fixed, so a schema complaint is about what the user passed.
    const message = err.message
      .split('\n')
      .map((line) => {
        const [field, ...rest] = line.slice(`${file}: `.length).split(': ');
        return `${OPTION_OF[field] ?? field}: ${rest.join(': ')}`;
      })
      .join('; ');
    throw new StranglerError('STRANGLER_E_USAGE', `init: ${message}`, {
      cause: err,
      details: err.details,
    });
  }
  try {
    writeFileSync(file, text, { flag: 'wx' }); // wx: fails if the file exists, with no window for a race
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new StranglerError(
      'STRANGLER_E_USAGE',
      `${file} already exists; not overwritten (edit it, or write a new one with --config OTHER.yaml)`,
      { details: { file } },
    );
  }
}
