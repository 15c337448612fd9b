/**
 * The planner's data shapes. They are defined in reports/plan/types.ts so the
 * plan reporters stay pure (reports import no producer code, checked by
 * .dependency-cruiser.cjs); the planner uses them from here.
 */
export * from '../reports/plan/types.js';
