#!/usr/bin/env node
// Thin bin: all behaviour lives in cli/main.ts (compiled to dist/), which returns
// an exit code instead of calling process.exit deep inside.
import { main } from '../dist/cli/main.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
