/**
 * What every benchmark gets from the runner: where to put files, how thorough to be, where profiles go, and a
 * progress line printer (stderr; the table goes to stdout).
 *
 * @module
 */

/** Shared settings of one `npm run bench`. */
export interface BenchContext {
  /** Scratch folder (data folders, drives, generated files); removed at the end. */
  workDir: string;
  /** Small sizes and short runs, for trying the bench itself (`--quick`). */
  quick: boolean;
  /** Where bridge CPU profiles go (`--cpu-prof`), or undefined. */
  cpuProfDir?: string;
  /** Prints a progress line on stderr. */
  progress(section: string, message: string): void;
}

/** Progress printer with elapsed seconds since the run started. */
export function progressPrinter(started: number): BenchContext['progress'] {
  return (section, message) => {
    const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[${s}s] ${section}: ${message}\n`);
  };
}
