import type { Cli } from './context.js';
import type { ExitCode } from './exitCodes.js';

/**
 * One `wopi-bridge <name>` command (a module under `scripts/commands/`). The dispatcher parses the command name,
 * answers `--help` from `help`, strips `--no-color`, and turns UsageError / ConfigError into one line and exit 3.
 */
export interface Command {
  /** The word typed after `wopi-bridge`. */
  name: string;
  /** Synopsis lines for the overview, e.g. `token <path> [--user NAME] [--view] [--json]`. */
  synopsis: string[];
  /** One sentence for the overview. */
  summary: string;
  /** The `--help` page body after the synopsis: options, exit codes and examples. */
  help: string;
  /**
   * Runs the command.
   * @param args the arguments after the command name (without `--no-color`)
   * @returns the exit code
   */
  run(args: string[], cli: Cli): Promise<ExitCode>;
  /** Exit code when the drive or the state store fails (default 2, CRITICAL). */
  failureExit?: ExitCode;
  /** Exit code for any other unexpected error (default 3, UNKNOWN). */
  unexpectedExit?: ExitCode;
}
