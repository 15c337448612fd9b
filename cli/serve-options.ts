/** Options of `strangler serve`, shared by the single-process and the --workers paths. */
import type { Config } from '../core/config.js';

export interface ServeOptions {
  config?: string;
  /** Override config.listen / config.admin.listen (HOST:PORT; port 0 allowed). */
  listen?: string;
  adminListen?: string;
  /** Resolves when the server should stop; defaults to SIGINT/SIGTERM. */
  stop?: Promise<string>;
  /** Run N worker processes sharing the listener (node:cluster). */
  workers?: number;
  /** Called once everything listens (tests read the ports from it). */
  onReady?: (info: ServeInfo) => void;
}

export interface ServeInfo {
  proxyUrl: string;
  adminUrl: string;
  config: Readonly<Config>;
}

export function splitHostPort(hp: string): { host: string; port: number } {
  const m = /^\[?([^\]]+)\]?:(\d+)$/.exec(hp);
  if (!m) throw new Error(`expected HOST:PORT, got "${hp}"`);
  return { host: m[1], port: Number(m[2]) };
}

