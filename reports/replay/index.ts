/** Replay reporters by format name (dependency-cruiser's src/report/index.mjs). */
import type { ReplayResult } from '../../control/replay.js';
import type { Reporter } from '../types.js';
import { renderReplayHtml } from './html.js';
import { renderReplayJson } from './json.js';
import { renderReplayJunit } from './junit.js';
import { renderReplayText } from './text.js';

export const REPLAY_FORMATS = ['text', 'json', 'junit', 'html'] as const;
export type ReplayFormat = (typeof REPLAY_FORMATS)[number];

export const REPLAY_REPORTERS: Record<ReplayFormat, Reporter<ReplayResult>> = {
  text: renderReplayText,
  json: renderReplayJson,
  junit: renderReplayJunit,
  html: renderReplayHtml,
};

export function isReplayFormat(s: string): s is ReplayFormat {
  return (REPLAY_FORMATS as readonly string[]).includes(s);
}
