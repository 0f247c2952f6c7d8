/**
 * Exit codes of every `wopi-bridge` command: the monitoring-plugin convention (Nagios, Icinga, Zabbix), so a
 * command plugs into a monitoring system as is.
 */
export const EXIT = {
  /** Everything checked is fine. */
  OK: 0,
  /** Works, but something needs attention (e.g. DS publishes no proof keys). */
  WARNING: 1,
  /** Broken (a smoke step failed, DS unreachable, a token is invalid). */
  CRITICAL: 2,
  /** The command could not run: a usage or configuration error. */
  UNKNOWN: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Check statuses in the words the admin page uses. */
export type Status = 'ok' | 'warn' | 'fail';

/** The exit code of a status. */
export function exitForStatus(status: Status): ExitCode {
  return status === 'ok' ? EXIT.OK : status === 'warn' ? EXIT.WARNING : EXIT.CRITICAL;
}

/**
 * A command line the command cannot run: one line on stderr, exit 3, no stack trace.
 * The message must never contain a secret or a token the user typed.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A command's verdict reached on the way (e.g. "no such file"): one line on stderr, the given exit code.
 * Use it when the command cannot print a regular result.
 */
export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = 'CommandFailure';
  }
}
