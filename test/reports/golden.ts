/**
 * Golden files under test/reports/golden/; the rule (write only under
 * UPDATE_GOLDEN=1, a missing file fails) lives in test/helpers/golden.ts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectGoldenIn } from '../helpers/golden.js';

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');

export function expectGolden(name: string, actual: string): void {
  expectGoldenIn(DIR, name, actual);
}
