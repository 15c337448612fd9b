import type { ReplayResult } from '../../control/replay.js';
import type { ReportOptions, ReportOutput } from '../types.js';
import { replayExit } from './shared.js';

/** The whole result as JSON, every case included, for tools. */
export function renderReplayJson(r: ReplayResult, _options: ReportOptions = {}): ReportOutput {
  return { output: `${JSON.stringify(r, null, 2)}\n`, exitCode: replayExit(r) };
}
