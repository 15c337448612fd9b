/**
 * Reporters are pure functions `(data, options) -> { output, exitCode }`, chosen
 * from a name map by format (dependency-cruiser's src/report/index.mjs). They
 * never import proxy/ and never do I/O: the CLI reads data, picks a reporter,
 * writes the output.
 */
export const REPORT_FORMATS = ['text', 'md', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOutput {
  output: string;
  exitCode: number;
}

export interface ReportOptions {
  /** Terminal width for text output. */
  width?: number;
  /** Fixed "now" so golden files are stable. */
  now?: Date;
  title?: string;
}

export type Reporter<D> = (data: D, options?: ReportOptions) => ReportOutput;
