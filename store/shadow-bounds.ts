/**
 * How much raw shadow evidence a store keeps per route. Both backends trim
 * to the same bounds (SQLite in its transaction, Redis with LTRIM), so the
 * contract suite (test/store/contract.ts) holds them to one answer.
 */

/** Latency reservoir cap per target: enough for stable p99, bounded in size. */
export const LATENCY_RESERVOIR = 5000;
/** Mismatch samples kept per route (a ring: oldest dropped first). */
export const SAMPLE_RING = 50;
