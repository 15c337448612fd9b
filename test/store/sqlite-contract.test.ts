import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { storeContract } from './contract.js';

let dir = '';
let n = 0;
storeContract({
  name: 'sqlite',
  async setup() {
    dir = mkdtempSync(path.join(os.tmpdir(), 'strangler-store-'));
  },
  async teardown() {
    rmSync(dir, { recursive: true, force: true });
  },
  async fresh() {
    // Two store objects on one file stand in for the proxy and the CLI.
    const file = path.join(dir, `state-${++n}.db`);
    return async () => openSqliteStore(file);
  },
});
