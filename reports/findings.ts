/** Notes about upstreams that reports print under their tables (text, md) or as a list (html). */
import { describeStall, type KeepAliveStallFinding } from '../core/keepalive-stall.js';

export function stallNotes(findings: readonly KeepAliveStallFinding[] | undefined): string[] {
  return (findings ?? []).map((f) => `note: ${describeStall(f)}`);
}
