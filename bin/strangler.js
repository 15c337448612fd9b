#!/usr/bin/env -S node --max-semi-space-size=16 --no-maglev
// The shebang's node flags are proxy/heap-tuning.ts's PROXY_NODE_FLAGS (why
// there): a V8 heap size is fixed when the process starts. `serve --workers`
// inherits them; run as `node bin/strangler.js ...`, pass them yourself.
// Thin bin: all behaviour lives in cli/main.ts (compiled to dist/), which returns
// an exit code instead of calling process.exit deep inside.
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
