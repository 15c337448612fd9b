/**
 * The one home for golden-file comparison. A golden file pins a reporter's
 * exact output; it is written ONLY when the run says so explicitly with
 * UPDATE_GOLDEN=1 (then read the diff before committing). Anything else —
 * unset, UPDATE_GOLDEN=0, a typo — compares, and a missing file fails: a test
 * that writes its own expectation and then compares against it cannot fail.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

export function updatingGoldens(): boolean {
  return process.env.UPDATE_GOLDEN === '1';
}

/** Compare `actual` with `dir/name`, or (re)write it under UPDATE_GOLDEN=1. */
export function expectGoldenIn(dir: string, name: string, actual: string): void {
  const file = path.join(dir, name);
  if (updatingGoldens()) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) {
    throw new Error(`golden file ${file} is missing: create it with UPDATE_GOLDEN=1 and review it`);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}
